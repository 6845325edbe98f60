// A real OAuth 2.1 / OpenID authorization server for the tests: the npm `oidc-provider`
// (the certified OpenID Connect provider for Node), on 127.0.0.1, configured by a JSON file
// the test writes (argv[2]):
//
//   { "port": 1234, "issuer": "http://127.0.0.1:1234/realms/homelab",
//     "oauthMetadata": true,              // serve RFC 8414 metadata (else OpenID only)
//     "resources": { "<resource URI>": { "scope": "mcp:all mcp:read" } },
//     "clients": [ { "client_id": "...", "client_secret": "...", "scope": "mcp:read",
//                    "alg": "ES256", "ttl": 300, "claims": { "groups": ["sre"] } } ] }
//
// Clients use the client-credentials grant with a resource indicator (RFC 8707); the token
// for a configured resource is a JWT access token (RFC 9068) whose `aud` is that resource,
// signed with the client's algorithm (RS256, ES256 or EdDSA) and current key generation.
//
// Key rotation is real: `POST /_admin/rotate` makes a new generation of keys (one per
// algorithm, new key ids), builds a new Provider whose JWKS publishes the new keys first
// and the previous ones after (`{"retire": true}` drops the previous ones), and swaps it in
// behind the same port and issuer — nothing restarts, exactly what an identity provider
// rolling its signing keys looks like from outside. `GET /_admin/stats` counts requests for
// the JWKS and the metadata documents, so tests can see how often the gateway fetched them.
// The admin paths exist only in this test server. The package comes from .ci/npm (argv[3]),
// which is not an ancestor of this file, so it is imported by its resolved path.
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const { default: Provider, errors } = await import(
  pathToFileURL(join(process.argv[3], 'node_modules', 'oidc-provider', 'lib', 'index.js')).href
);

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const issuerUrl = new URL(config.issuer);
const mount = issuerUrl.pathname.replace(/\/$/, '');
const clients = new Map(config.clients.map((c) => [c.client_id, c]));
const stats = { jwks: 0, metadata: {}, token: 0 };

const ALGORITHMS = ['RS256', 'ES256', 'EdDSA'];
let generation = 0;
let keys = [];

function newKey(alg) {
  const pair = alg === 'RS256'
    ? generateKeyPairSync('rsa', { modulusLength: 2048 })
    : alg === 'ES256'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : generateKeyPairSync('ed25519');
  return { ...pair.privateKey.export({ format: 'jwk' }), kid: `${alg}-g${generation}`, alg, use: 'sig' };
}

function rotate(retire) {
  generation += 1;
  const fresh = ALGORITHMS.map(newKey);
  keys = retire ? fresh : [...fresh, ...keys];
}

function build() {
  const provider = new Provider(config.issuer, {
    jwks: { keys },
    clients: config.clients.map((c) => ({
      client_id: c.client_id,
      client_secret: c.client_secret,
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
      scope: c.scope || undefined,
      token_endpoint_auth_method: c.auth_method || 'client_secret_basic',
    })),
    scopes: [...new Set(Object.values(config.resources).flatMap((r) => r.scope.split(' ')))],
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: false },
      revocation: { enabled: false },
      resourceIndicators: {
        enabled: true,
        defaultResource: async (ctx, client, oneOf) => oneOf,
        useGrantedResource: async () => true,
        getResourceServerInfo: async (ctx, resource, client) => {
          const server = config.resources[resource];
          if (!server) throw new errors.InvalidTarget();
          const settings = clients.get(client.clientId) || {};
          const alg = settings.alg || 'ES256';
          return {
            scope: server.scope,
            audience: resource,
            accessTokenFormat: 'jwt',
            accessTokenTTL: settings.ttl || 300,
            jwt: { sign: { alg, kid: `${alg}-g${generation}` } },
          };
        },
      },
    },
    extraTokenClaims: async (ctx, token) => clients.get(token.clientId)?.claims,
    ttl: {
      ClientCredentials: (ctx, token) => token.resourceServer?.accessTokenTTL || 300,
      AccessToken: (ctx, token) => token.resourceServer?.accessTokenTTL || 300,
    },
  });
  return provider.callback();
}

rotate(false);
let handler = build();

function send(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function admin(req, res, path) {
  if (path === '/_admin/stats' && req.method === 'GET') return send(res, 200, stats);
  if (path === '/_admin/rotate' && req.method === 'POST') {
    let body = '';
    req.on('data', (chunk) => { body += chunk; });
    req.on('end', () => {
      const { retire = false } = body ? JSON.parse(body) : {};
      rotate(retire);
      handler = build();
      send(res, 200, { generation, kids: keys.map((k) => k.kid) });
    });
    return undefined;
  }
  return send(res, 404, { error: 'not_found' });
}

const server = createServer((req, res) => {
  const path = new URL(req.url, 'http://localhost').pathname;
  if (path.startsWith('/_admin/')) return admin(req, res, path);
  let local;
  if (path === `/.well-known/oauth-authorization-server${mount}`) {
    // RFC 8414 §3.1: the well-known segment inserted before the issuer's path
    local = '/.well-known/oauth-authorization-server';
  } else if (path === mount || path.startsWith(`${mount}/`)) {
    local = path.slice(mount.length) || '/';
  } else {
    return send(res, 404, { error: 'not_found' });
  }
  if (local === '/.well-known/oauth-authorization-server' && !config.oauthMetadata) {
    return send(res, 404, { error: 'not_found' });
  }
  if (local.startsWith('/.well-known/')) stats.metadata[path] = (stats.metadata[path] || 0) + 1;
  if (local === '/jwks') stats.jwks += 1;
  if (local === '/token') stats.token += 1;
  const query = req.url.includes('?') ? req.url.slice(req.url.indexOf('?')) : '';
  // mounted as express would: the provider reads its mount path from originalUrl vs url
  req.originalUrl = `${mount}${local}${query}`;
  req.url = `${local}${query}`;
  return handler(req, res);
});

server.listen(config.port, '127.0.0.1', () => {
  process.stdout.write(`oidc-provider for ${config.issuer} listening on 127.0.0.1:${config.port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));

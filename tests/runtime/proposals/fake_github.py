"""A small GitHub REST API for one repository, enough for PyGithub's proposal calls.

Stands in for api.github.com (unreachable here). It speaks the real endpoints and JSON
shapes PyGithub reads — repository, branches, git refs, contents (base64, blob shas),
pull requests with ``head``/``state`` filters, labels and issue labels — over an
in-memory history of commits, checks the bearer token, and can fail the next requests
with a chosen status to exercise retryable and permanent errors.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

__all__ = ["Commit", "FakeGitHub", "serve_github"]


@dataclass(frozen=True)
class Commit:
    sha: str
    parent: str | None
    files: dict[str, str]
    message: str


@dataclass
class FakeGitHub:
    owner: str = "shreck"
    name: str = "mcpfleet"
    token: str = "ghp_test_token"
    base_url: str = ""
    commits: dict[str, Commit] = field(default_factory=dict)
    branches: dict[str, str] = field(default_factory=dict)
    pulls: dict[int, dict[str, Any]] = field(default_factory=dict)
    labels: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    fail_next: list[int] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock)

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    @property
    def repo_url(self) -> str:
        return f"{self.base_url}/repos/{self.full_name}"

    def seed(self, files: dict[str, str], branch: str = "main") -> str:
        return self._commit(None, files, "initial", branch)

    def file(self, branch: str, path: str) -> str | None:
        return self.commits[self.branches[branch]].files.get(path)

    def files(self, branch: str) -> dict[str, str]:
        return dict(self.commits[self.branches[branch]].files)

    def history(self, branch: str) -> list[Commit]:
        out, sha = [], self.branches.get(branch)
        while sha is not None:
            out.append(self.commits[sha])
            sha = self.commits[sha].parent
        return out

    def merge(self, number: int) -> None:
        """Merge a pull request into its base, as the green button does."""
        with self.lock:
            pull = self.pulls[number]
            head_files = self.files(pull["head"]["ref"])
            base = pull["base"]["ref"]
            merged = {**self.files(base), **head_files}
            self._commit(self.branches[base], merged, f"Merge #{number}", base)
            pull.update(state="closed", merged_at="2026-01-01T00:00:00Z", merged=True)

    def close(self, number: int) -> None:
        """Close a pull request without merging (a reviewer declines it)."""
        with self.lock:
            self.pulls[number].update(state="closed")

    def open_pulls(self) -> list[dict[str, Any]]:
        return [p for p in self.pulls.values() if p["state"] == "open"]

    def _commit(self, parent: str | None, files: dict[str, str], message: str, branch: str) -> str:
        seed = f"{parent}{sorted(files.items())}{message}{len(self.commits)}"
        sha = hashlib.sha1(seed.encode()).hexdigest()
        self.commits[sha] = Commit(sha, parent, dict(files), message)
        self.branches[branch] = sha
        return sha


def _blob_sha(text: str) -> str:
    data = text.encode()
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    hub: FakeGitHub

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._route("GET")

    def do_POST(self) -> None:
        self._route("POST")

    def do_PUT(self) -> None:
        self._route("PUT")

    def do_PATCH(self) -> None:
        self._route("PATCH")

    def _route(self, method: str) -> None:
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"null") if length else None
        hub = self.hub
        with hub.lock:
            hub.requests.append((method, url.path))
            accepted = (f"token {hub.token}", f"Bearer {hub.token}")
            if self.headers.get("Authorization") not in accepted:
                return self._send(401, {"message": "Bad credentials"})
            if hub.fail_next:
                status = hub.fail_next.pop(0)
                return self._send(status, {"message": f"injected {status}"})
            prefix = f"/repos/{hub.full_name}"
            if not url.path.startswith(prefix):
                return self._send(404, {"message": "Not Found"})
            rest = url.path[len(prefix):]
            for pattern, verb, handler in _ROUTES:
                match = re.fullmatch(pattern, rest)
                if match and verb == method:
                    status, payload = handler(hub, match, query, body)
                    return self._send(status, payload)
            return self._send(404, {"message": "Not Found"})

    def _send(self, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


Result = tuple[int, Any]
Match = re.Match[str]
Query = dict[str, str]


def _repo(hub: FakeGitHub, m: Match, q: Query, b: Any) -> Result:
    return 200, {
        "id": 1,
        "name": hub.name,
        "full_name": hub.full_name,
        "owner": {"login": hub.owner, "type": "User"},
        "default_branch": "main",
        "url": hub.repo_url,
        "html_url": f"https://github.example/{hub.full_name}",
    }


def _branch(hub: FakeGitHub, m: Match, q: Query, b: Any) -> Result:
    name = unquote(m.group(1))
    if name not in hub.branches:
        return 404, {"message": "Branch not found"}
    sha = hub.branches[name]
    return 200, {"name": name, "commit": {"sha": sha, "url": f"{hub.repo_url}/commits/{sha}"}}


def _ref_json(hub: FakeGitHub, branch: str) -> dict[str, Any]:
    sha = hub.branches[branch]
    return {
        "ref": f"refs/heads/{branch}",
        "url": f"{hub.repo_url}/git/refs/heads/{branch}",
        "object": {"sha": sha, "type": "commit", "url": f"{hub.repo_url}/git/commits/{sha}"},
    }


def _create_ref(hub: FakeGitHub, m: Match, q: Query, b: Any) -> Result:
    branch = b["ref"].removeprefix("refs/heads/")
    if branch in hub.branches:
        return 422, {"message": "Reference already exists"}
    hub.branches[branch] = b["sha"]
    return 201, _ref_json(hub, branch)


def _get_ref(hub: FakeGitHub, m: Match, q: Query, b: Any) -> Result:
    branch = unquote(m.group(1))
    if branch not in hub.branches:
        return 404, {"message": "Not Found"}
    return 200, _ref_json(hub, branch)


def _edit_ref(hub: FakeGitHub, m: Match, q: Query, b: Any) -> Result:
    branch = unquote(m.group(1))
    if branch not in hub.branches:
        return 422, {"message": "Reference does not exist"}
    hub.branches[branch] = b["sha"]
    return 200, _ref_json(hub, branch)


def _content_json(hub: FakeGitHub, path: str, text: str) -> dict[str, Any]:
    return {
        "type": "file",
        "encoding": "base64",
        "content": base64.b64encode(text.encode()).decode(),
        "sha": _blob_sha(text),
        "path": path,
        "name": path.rsplit("/", 1)[-1],
        "size": len(text.encode()),
        "url": f"{hub.repo_url}/contents/{path}",
    }


def _get_content(hub: FakeGitHub, m: Match, q: Query, b: Any) -> Result:
    path, ref = unquote(m.group(1)), q.get("ref", "main")
    if ref not in hub.branches:
        return 404, {"message": "No commit found for the ref"}
    text = hub.file(ref, path)
    if text is None:
        return 404, {"message": "Not Found"}
    return 200, _content_json(hub, path, text)


def _put_content(hub: FakeGitHub, m: Match, q: Query, b: Any) -> Result:
    path, branch = unquote(m.group(1)), b.get("branch", "main")
    if branch not in hub.branches:
        return 404, {"message": "Branch not found"}
    files = hub.files(branch)
    if path in files and b.get("sha") != _blob_sha(files[path]):
        return 409, {"message": f"{path} does not match {b.get('sha')}"}
    if path not in files and b.get("sha"):
        return 422, {"message": "sha given for a new file"}
    text = base64.b64decode(b["content"]).decode()
    files[path] = text
    sha = hub._commit(hub.branches[branch], files, b["message"], branch)
    commit = {"sha": sha, "url": f"{hub.repo_url}/git/commits/{sha}", "message": b["message"]}
    status = 200 if b.get("sha") else 201
    return status, {"content": _content_json(hub, path, text), "commit": commit}


def _pull_json(hub: FakeGitHub, pull: dict[str, Any]) -> dict[str, Any]:
    head = pull["head"]["ref"]
    return {
        **pull,
        "url": f"{hub.repo_url}/pulls/{pull['number']}",
        "html_url": f"https://github.example/{hub.full_name}/pull/{pull['number']}",
        "issue_url": f"{hub.repo_url}/issues/{pull['number']}",
        "head": {"ref": head, "label": f"{hub.owner}:{head}", "sha": hub.branches.get(head)},
        "labels": [hub.labels[n] for n in pull.get("label_names", [])],
    }


def _list_pulls(hub: FakeGitHub, m: Match, q: Query, b: Any) -> Result:
    state, head, base = q.get("state", "open"), q.get("head"), q.get("base")
    pulls = [
        _pull_json(hub, p)
        for p in hub.pulls.values()
        if (state == "all" or p["state"] == state)
        and (head is None or f"{hub.owner}:{p['head']['ref']}" == head)
        and (base is None or p["base"]["ref"] == base)
    ]
    return 200, pulls


def _create_pull(hub: FakeGitHub, m: Match, q: Query, b: Any) -> Result:
    if b["head"] not in hub.branches:
        return 422, {"message": "Validation Failed", "errors": [{"field": "head"}]}
    if any(p["state"] == "open" and p["head"]["ref"] == b["head"] for p in hub.pulls.values()):
        return 422, {"message": f"A pull request already exists for {hub.owner}:{b['head']}."}
    number = len(hub.pulls) + 1
    hub.pulls[number] = {
        "number": number,
        "state": "open",
        "title": b["title"],
        "body": b.get("body"),
        "head": {"ref": b["head"]},
        "base": {"ref": b["base"]},
        "merged_at": None,
        "merged": False,
        "label_names": [],
    }
    return 201, _pull_json(hub, hub.pulls[number])


def _edit_pull(hub: FakeGitHub, m: Match, q: Query, b: Any) -> Result:
    pull = hub.pulls.get(int(m.group(1)))
    if pull is None:
        return 404, {"message": "Not Found"}
    pull.update({k: v for k, v in b.items() if k in ("title", "body", "state")})
    return 200, _pull_json(hub, pull)


def _get_label(hub: FakeGitHub, m: Match, q: Query, b: Any) -> Result:
    label = hub.labels.get(unquote(m.group(1)))
    return (200, label) if label else (404, {"message": "Not Found"})


def _create_label(hub: FakeGitHub, m: Match, q: Query, b: Any) -> Result:
    if b["name"] in hub.labels:
        return 422, {"message": "Validation Failed", "errors": [{"code": "already_exists"}]}
    label = {"name": b["name"], "color": b["color"], "url": f"{hub.repo_url}/labels/{b['name']}"}
    hub.labels[b["name"]] = label
    return 201, label


def _add_labels(hub: FakeGitHub, m: Match, q: Query, b: Any) -> Result:
    pull = hub.pulls.get(int(m.group(1)))
    if pull is None:
        return 404, {"message": "Not Found"}
    names = b if isinstance(b, list) else b.get("labels", [])
    missing = [n for n in names if n not in hub.labels]
    if missing:
        return 422, {"message": f"labels do not exist: {missing}"}
    pull["label_names"] = sorted({*pull["label_names"], *names})
    return 200, [hub.labels[n] for n in pull["label_names"]]


_ROUTES = [
    (r"", "GET", _repo),
    (r"/branches/(.+)", "GET", _branch),
    (r"/git/refs", "POST", _create_ref),
    (r"/git/refs?/heads/(.+)", "GET", _get_ref),
    (r"/git/refs?/heads/(.+)", "PATCH", _edit_ref),
    (r"/contents/(.+)", "GET", _get_content),
    (r"/contents/(.+)", "PUT", _put_content),
    (r"/pulls", "GET", _list_pulls),
    (r"/pulls", "POST", _create_pull),
    (r"/pulls/(\d+)", "PATCH", _edit_pull),
    (r"/labels/(.+)", "GET", _get_label),
    (r"/labels", "POST", _create_label),
    (r"/issues/(\d+)/labels", "POST", _add_labels),
]


@contextmanager
def serve_github(hub: FakeGitHub) -> Iterator[str]:
    """Serve ``hub`` on 127.0.0.1 for the block; yields the API base URL."""
    handler = type("Handler", (_Handler,), {"hub": hub})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    hub.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield hub.base_url
    finally:
        server.shutdown()
        server.server_close()
        thread.join()

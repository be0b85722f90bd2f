# Ansible connection plugin "hangar": tasks reach a Hangar machine through the step's bridge, a
# unix socket the Hangar server opens for one build step (server/core/steps/ansible-bridge.ts) that
# runs commands and moves files with the machine's own exec, as every other step does. So the
# ansible and ansible-playbook steps work the same on VMs and containers, with no sshd, key or
# network path to the guest needed. Loaded from ANSIBLE_CONNECTION_PLUGINS set by the step.
from __future__ import annotations

DOCUMENTATION = """
    name: hangar
    short_description: run tasks in a Hangar machine through its build step's bridge
    description:
        - Commands, uploads and downloads go to the unix socket of the Hangar step that runs Ansible.
    author: Hangar
    options:
      hangar_socket:
        description: The bridge's unix socket.
        vars:
          - name: ansible_hangar_socket
        env:
          - name: HANGAR_ANSIBLE_SOCKET
"""

import base64
import http.client
import json
import socket

from ansible.errors import AnsibleConnectionFailure
from ansible.plugins.connection import ConnectionBase


class _UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout):
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        s.connect(self._path)
        self.sock = s


class Connection(ConnectionBase):
    transport = "hangar"
    has_pipelining = False

    def _call(self, op, body):
        conn = _UnixHTTPConnection(self.get_option("hangar_socket"), 3600)
        try:
            conn.request("POST", "/" + op, json.dumps(body), {"content-type": "application/json"})
            res = conn.getresponse()
            data = json.loads(res.read() or b"{}")
        except OSError as e:
            raise AnsibleConnectionFailure("cannot reach the Hangar step bridge: %s" % e)
        finally:
            conn.close()
        if res.status != 200:
            raise AnsibleConnectionFailure(data.get("error", "the Hangar step bridge answered %d" % res.status))
        return data

    def _connect(self):
        self._connected = True
        return self

    def exec_command(self, cmd, in_data=None, sudoable=True):
        super(Connection, self).exec_command(cmd, in_data=in_data, sudoable=sudoable)
        if in_data:
            raise AnsibleConnectionFailure("the hangar connection does not pipeline (no stdin)")
        r = self._call("exec", {"cmd": cmd})
        return r["rc"], base64.b64decode(r["stdout"]), base64.b64decode(r["stderr"])

    def put_file(self, in_path, out_path):
        super(Connection, self).put_file(in_path, out_path)
        with open(in_path, "rb") as f:
            data = f.read()
        self._call("put", {"path": out_path, "data": base64.b64encode(data).decode("ascii")})

    def fetch_file(self, in_path, out_path):
        super(Connection, self).fetch_file(in_path, out_path)
        r = self._call("fetch", {"path": in_path})
        with open(out_path, "wb") as f:
            f.write(base64.b64decode(r["data"]))

    def close(self):
        self._connected = False

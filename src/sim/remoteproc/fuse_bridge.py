#!/usr/bin/env python3
"""FUSE bridge of the crtos simulated machine (src/sim/remoteproc).

Mounts one sysfs directory of a simulated machine and forwards every file operation to the
machine's kernel server (a Node process) over its UNIX socket, one JSON line each way; the
server's errno becomes the operation's errno. All behaviour lives in the server: this script only
translates. Started by the kernel server, in the foreground, as:

    fuse_bridge.py SOCKET MOUNTPOINT MACHINE_PATH

MACHINE_PATH is what the mount stands for on the machine (/sys/class/remoteproc): paths are sent
as machine paths. File descriptor 3 is a pipe from the server: when it reads end-of-file the
server is gone (even killed), and the bridge detaches its mount and exits.
"""
import base64
import ctypes
import errno
import json
import os
import socket
import stat
import subprocess
import sys
import threading
import time

from fusepy import FUSE, FuseOSError, Operations, fuse_get_context

SOCKET, MOUNTPOINT, MACHINE_PATH = sys.argv[1:4]
SERVER_PIPE = 3
MNT_DETACH = 2
KINDS = {'dir': stat.S_IFDIR, 'file': stat.S_IFREG, 'link': stat.S_IFLNK}


class Bridge(Operations):
    use_ns = True

    def __init__(self):
        self.local = threading.local()
        # sysfs shows the time its files were made: the mount's.
        self.started_ns = time.time_ns()

    def call(self, op, path, **args):
        conn = getattr(self.local, 'conn', None)
        if conn is None:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.connect(SOCKET)
            except OSError:
                raise FuseOSError(errno.EIO)
            conn = self.local.conn = sock.makefile('rwb')
        uid, _gid, pid = fuse_get_context()
        request = {'op': op, 'path': MACHINE_PATH + ('' if path == '/' else path), 'pid': pid, 'uid': uid}
        request.update(args)
        try:
            conn.write(json.dumps(request).encode() + b'\n')
            conn.flush()
            line = conn.readline()
        except OSError:
            line = b''
        if not line:
            self.local.conn = None
            raise FuseOSError(errno.EIO)
        reply = json.loads(line)
        if reply.get('errno'):
            raise FuseOSError(getattr(errno, reply['errno'], errno.EIO))
        return reply

    def init(self, path):
        self.call('hello', '/')

    def getattr(self, path, fh=None):
        a = self.call('getattr', path)['attr']
        t = self.started_ns
        return {'st_mode': KINDS[a['type']] | a['mode'], 'st_nlink': 2 if a['type'] == 'dir' else 1,
                'st_size': a['size'], 'st_uid': 0, 'st_gid': 0, 'st_atime': t, 'st_mtime': t, 'st_ctime': t}

    def readdir(self, path, fh):
        return ['.', '..'] + self.call('readdir', path)['entries']

    def readlink(self, path):
        return self.call('readlink', path)['target']

    def open(self, path, flags):
        return self.call('open', path, flags=flags)['fh']

    def read(self, path, size, offset, fh):
        return base64.b64decode(self.call('read', path, size=size, offset=offset, fh=fh)['data'])

    def release(self, path, fh):
        self.call('release', path, fh=fh)

    def write(self, path, data, offset, fh):
        return self.call('write', path, data=base64.b64encode(data).decode(), offset=offset)['written']

    def truncate(self, path, length, fh=None):
        self.call('truncate', path)

    def create(self, path, mode, fi=None):
        self.call('create', path)

    def mkdir(self, path, mode):
        self.call('mkdir', path)

    def unlink(self, path):
        self.call('unlink', path)

    def rmdir(self, path):
        self.call('rmdir', path)

    def rename(self, old, new):
        self.call('rename', old)


def follow_server():
    """Waits for the server's end of the pipe to close, then leaves no mount behind."""
    while os.read(SERVER_PIPE, 4096):
        pass
    if ctypes.CDLL(None, use_errno=True).umount2(MOUNTPOINT.encode(), MNT_DETACH) != 0:
        subprocess.run(['fusermount3', '-u', '-z', MOUNTPOINT], stderr=subprocess.DEVNULL)
    os._exit(0)


if __name__ == '__main__':
    threading.Thread(target=follow_server, daemon=True).start()
    FUSE(Bridge(), MOUNTPOINT, foreground=True, direct_io=True, allow_other=True, default_permissions=True,
         entry_timeout=0, attr_timeout=0, negative_timeout=0, fsname='crtos-sim-sysfs')

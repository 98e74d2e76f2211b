"""The FTP server of tests/servers.sh when it cannot use vsftpd (which
needs root and a system user): pyftpdlib, one login whose folder may be
read and written.  Usage: FTP_USER=u FTP_PASS=p ftp.py HOME PORTFILE LOG
(the password comes in the environment, not where ps shows it).
It binds 127.0.0.1 port 0 and writes the port to PORTFILE once it listens.
"""
import logging
import os
import sys

from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler
from pyftpdlib.servers import FTPServer

home, portfile, logfile = sys.argv[1:4]
logging.basicConfig(filename=logfile, level=logging.INFO)
auth = DummyAuthorizer()
# Every right: list, read, write, append, delete, rename, mkdir, chmod,
# mtime (what a client resuming or replacing an upload needs).
auth.add_user(os.environ["FTP_USER"], os.environ["FTP_PASS"], home,
              perm="elradfmwMT")
FTPHandler.authorizer = auth
FTPHandler.masquerade_address = "127.0.0.1"
# A wrong password fails at once (tests of it would wait 3 s each).
FTPHandler.auth_failed_timeout = 0
server = FTPServer(("127.0.0.1", 0), FTPHandler)
with open(portfile + ".new", "w") as f:
    f.write("%d\n" % server.address[1])
os.rename(portfile + ".new", portfile)
server.serve_forever()

#!/usr/bin/env python3
"""Port ranges of deploy/local-cluster.sh: a cluster with base port B uses
B+1..B+4 (client API) and B+100..B+103 (peer protocol) on 127.0.0.1.

  cluster-ports.py check B   exit 0 if all eight ports are free, 1 otherwise
  cluster-ports.py free      print a base whose eight ports are all free
"""
import random
import socket
import sys


def ports(base):
    return [base + i for i in range(1, 5)] + [base + 100 + i for i in range(4)]


def range_free(base):
    for p in ports(base):
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", p))
        except OSError:
            return False
        finally:
            s.close()
    return True


def free_base():
    for _ in range(500):
        base = random.randrange(20000, 50000, 10)
        if range_free(base):
            return base
    return None


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "check":
        sys.exit(0 if range_free(int(sys.argv[2])) else 1)
    if len(sys.argv) == 2 and sys.argv[1] == "free":
        base = free_base()
        if base is None:
            print("cluster-ports: no free port range found", file=sys.stderr)
            sys.exit(1)
        print(base)
        sys.exit(0)
    print(__doc__, file=sys.stderr)
    sys.exit(2)

"""Clients that do not take their answers, for bench/run soak: some never
read (pipelining requests until the agent stops reading them), some read a
kilobyte a second. Each reconnects when the agent closes its connection.
Runs for SECONDS against 127.0.0.1:PORT, then prints how many connections
the agent closed on them."""
import socket, sys, threading, time

port, seconds, paths = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3:]
deadline = time.time() + seconds
closed = [0]
lock = threading.Lock()

def request(path):
    return f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode()

def never_reads(index):
    while time.time() < deadline:
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.settimeout(2)
            batch = b"".join(request(paths[(index + k) % len(paths)]) for k in range(200))
            while time.time() < deadline:
                s.sendall(batch)
        except (OSError, socket.timeout):
            with lock:
                closed[0] += 1
            time.sleep(0.5)

def reads_slowly(index):
    while time.time() < deadline:
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            s.settimeout(30)
            s.sendall(request(paths[index % len(paths)]) * 20)
            while time.time() < deadline:
                if not s.recv(1024):
                    break
                time.sleep(1)
        except (OSError, socket.timeout):
            pass
        with lock:
            closed[0] += 1

threads = [threading.Thread(target=never_reads, args=(i,)) for i in range(10)]
threads += [threading.Thread(target=reads_slowly, args=(i,)) for i in range(10)]
for t in threads:
    t.daemon = True
    t.start()
while time.time() < deadline:
    time.sleep(1)
print(closed[0])

"""A TCP relay that puts DELAY_MS between its clients and TARGET (host:port),
for bench/run fleet: a bucket in another zone of a region is some
milliseconds away, where the Ceph gateway of the benchmark is on this host.
Each piece a client sends is passed on DELAY_MS after it arrived (in order),
answers come back at once: a request's round trip grows by DELAY_MS.
Prints "listening PORT" once it accepts; runs until killed."""
import asyncio, sys

target_host, target_port = sys.argv[1].rsplit(":", 1)
delay = float(sys.argv[2]) / 1000


async def forward_late(reader, writer):
    loop = asyncio.get_running_loop()
    queue = asyncio.Queue()

    async def read():
        while data := await reader.read(65536):
            await queue.put((loop.time() + delay, data))
        await queue.put((loop.time() + delay, None))

    reading = asyncio.create_task(read())
    try:
        while True:
            due, data = await queue.get()
            await asyncio.sleep(max(0.0, due - loop.time()))
            if data is None:
                break
            writer.write(data)
            await writer.drain()
    finally:
        reading.cancel()
        writer.close()


async def forward(reader, writer):
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    finally:
        writer.close()


async def relay(client_reader, client_writer):
    try:
        server_reader, server_writer = await asyncio.open_connection(target_host, int(target_port))
    except OSError:
        client_writer.close()
        return
    await asyncio.gather(
        forward_late(client_reader, server_writer), forward(server_reader, client_writer), return_exceptions=True)


async def main():
    server = await asyncio.start_server(relay, "127.0.0.1", 0)
    print("listening", server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


asyncio.run(main())

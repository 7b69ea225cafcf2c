/* The floor for bench/run activation: the least a socket-activated program
 * does to answer (accept on systemd's socket, read a request, write a fixed
 * response), so that goedge's first byte can be read against what process
 * start-up costs on this machine at all. */
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(void) {
    const char answer[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
    int client = accept(3, 0, 0); /* SD_LISTEN_FDS_START */
    if (client < 0) return 1;
    char request[4096];
    if (read(client, request, sizeof request) <= 0) return 1;
    if (write(client, answer, strlen(answer)) < 0) return 1;
    close(client);
    return 0;
}

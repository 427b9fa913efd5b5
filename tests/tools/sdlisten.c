// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * sdlisten: stands in for systemd's notification socket. Binds PATH, prints
 * every datagram it gets on a line of its own, exits after one holding WORD.
 * Usage: sdlisten PATH WORD
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char buf[512];
	ssize_t n;
	int fd;

	if (argc != 3 || strlen(argv[1]) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "usage: sdlisten PATH WORD\n");
		return 2;
	}
	strcpy(sun.sun_path, argv[1]);
	unlink(argv[1]);
	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		perror(argv[1]);
		return 1;
	}
	printf("listening\n");
	fflush(stdout);
	while ((n = recv(fd, buf, sizeof(buf) - 1, 0)) >= 0) {
		buf[n] = 0;
		printf("%s\n", buf);
		fflush(stdout);
		if (strstr(buf, argv[2]))
			return 0;
	}
	return 1;
}

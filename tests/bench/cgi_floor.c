/*
 * cgi_floor.c -- the least any WAGI program does: read the environment and
 * the body, write a response. It imports the same four WASI functions as
 * the WAGI module, so a host's per-import cost is in both (make bench).
 */
#include <wasi/api.h>

static uint8_t env_buf[32768];
static uint8_t *env_ptrs[256];
static uint8_t body[65536];
static const char reply[] = "Status: 200 OK\nContent-Type: application/json\n\n{}\n";

int
main(void)
{
	__wasi_size_t count = 0, size = 0, n = 0;
	__wasi_iovec_t in;
	__wasi_ciovec_t out;

	if (__wasi_environ_sizes_get(&count, &size) != 0 || count > 256 || size > sizeof env_buf
		|| __wasi_environ_get(env_ptrs, env_buf) != 0)
	{
		return 1;
	}
	in.buf = body;
	in.buf_len = sizeof body;
	while (__wasi_fd_read(0, &in, 1, &n) == 0 && n > 0) {
	}
	out.buf = (const uint8_t *)reply;
	out.buf_len = sizeof reply - 1;
	return __wasi_fd_write(1, &out, 1, &n) != 0;
}

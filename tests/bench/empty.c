/* empty.c -- the empty WASI command: the host's own per-request floor. */
int
main(void)
{
	return 0;
}

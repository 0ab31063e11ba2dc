/* Looking down a backing chain for what a range reads as. */
#include "disk/img.h"

int img_chain_status(struct blk *b, uint64_t off, uint64_t len, uint64_t *pnum, bool *zero)
{
	uint64_t n = len;
	for (struct blk *l = b; l; l = blk_backing(l)) {
		if (off >= blk_size(l)) {
			/* Past this layer's end: zeros, whatever lies below. */
			break;
		}
		uint64_t avail = blk_size(l) - off < n ? blk_size(l) - off : n, got;
		unsigned st;
		int ret = blk_block_status(l, off, avail, &got, &st);
		if (ret)
			return ret;
		if (got < n)
			n = got;
		if (st & BLK_STATUS_ALLOCATED) {
			*zero = st & BLK_STATUS_ZERO;
			*pnum = n;
			return 0;
		}
	}
	*zero = true;
	*pnum = n;
	return 0;
}

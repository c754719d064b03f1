// Package checksum implements rsync's checksums: the rolling weak sum of
// checksum.c get_checksum1, the seeded strong block and whole-file sums of
// get_checksum2 and sum_init/sum_update/sum_end, the negotiation of the
// checksum algorithm (compat.c), and the block-size heuristic of
// generator.c sum_sizes_sqroot.
package checksum

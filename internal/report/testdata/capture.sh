#!/bin/sh
# Captures the golden outputs in this directory from upstream rsync.
#
# Run as root (for the device node) in the C locale, from this directory:
#   LC_ALL=C sh capture.sh
# Each NAME.txt is the exact stdout of one rsync run; its options are on the
# line below that names it. Made with rsync 3.5.0 (protocol 32). The
# byte counts are nearly deterministic for a given tree (a rerun may differ
# by a few bytes sent); the bytes/sec and
# file-list times are not, so summary_test.go feeds in the elapsed seconds
# and times each run reported and compares every byte.
set -eu
export LC_ALL=C
out=$(pwd)
w=$(mktemp -d)
trap 'rm -rf "$w"' EXIT
cd "$w"

# The small tree: regular files, directories, a symlink, a fifo, a device.
mksrc() {
	rm -rf src dst
	mkdir -p src/a/b src/c
	awk 'BEGIN { for (i = 0; i < 123456; i++) printf "%09d\n", i * 7919 % 1000003 }' > src/big
	awk 'BEGIN { for (i = 0; i < 500; i++) printf "line %05d\n", i }' > src/a/f1
	echo hi > src/a/b/f2
	echo x > src/c/f3
	ln -s big src/lnk
	mkfifo src/fifo
	mknod src/dev c 1 3
	find src -exec touch -h -d '2024-01-02 03:04:05' {} +
}

run() { # name args...
	name=$1
	shift
	rm -rf dst
	rsync "$@" src/ dst/ > "$out/$name.txt"
}

mksrc
run copy_default -a --stats
run copy_h -a --stats -h
run copy_hh -a --stats -hh
run copy_hhh -a --stats -hhh
run copy_noh -a --stats --no-h
run copy_v -a -v
run copy_v_noh -a -v --no-h
run copy_v_hh -a -v -hh
run copy_p28 -a --stats --protocol=28
run copy_p30 -a --stats --protocol=30
run dry_stats -a -n --stats
run dry_v -a -n -v

# An update: changed data for matched blocks, extra files to delete.
rm -rf dst
rsync -a src/ dst/
echo appended >> src/big
touch -d '2024-01-02 03:04:06' src/big
mkdir -p dst/gone/sub
echo junk > dst/gone/sub/j1
echo junk > dst/junk
ln -s nowhere dst/gonelink
rsync -a --no-W --delete --stats src/ dst/ > "$out/update_stats.txt"

# Large sizes (sparse files, dry run) for the unit suffixes.
rm -rf src dst
mkdir src
truncate -s 5368709120 src/five_gib
truncate -s 3298534883328 src/three_tib
truncate -s 999999 src/small
find src -exec touch -h -d '2024-01-02 03:04:05' {} +
run big_noh -a -n --stats --no-h
run big_default -a -n --stats
run big_h -a -n --stats -h
run big_hh -a -n --stats -hh

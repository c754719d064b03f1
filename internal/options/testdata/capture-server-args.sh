#!/bin/bash
# Regenerates server_args.txt: runs upstream rsync with a fake remote shell
# that records the argv rsync asks it to run, for each option set below.
# Usage: ./capture-server-args.sh > server_args.txt   (needs upstream rsync)
set -u
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/rsh" <<'SH'
#!/bin/sh
shift                                   # the host name
for a in "$@"; do printf '%s\n' "$a"; done > "$RECORD"
exit 1
SH
chmod +x "$work/rsh"
mkdir -p "$work/src" && echo x > "$work/src/f"
export RECORD="$work/argv"

capture() { # dir opts path
	local dir=$1 opts=$2 path=$3
	rm -f "$RECORD"
	(
		cd "$work" || exit
		# shellcheck disable=SC2086
		case $dir in
		push) rsync $opts -e "$work/rsh" src/ "localhost:$path" ;;
		pull) rsync $opts -e "$work/rsh" "localhost:$path" dst ;;
		list) rsync $opts -e "$work/rsh" "localhost:$path" ;;
		esac
	) >/dev/null 2>&1
	# Drop argv[0] (the rsync path) and join with tabs.
	printf '%s\t%s\t%s\t%s\n' "$dir" "$opts" "$path" "$(tail -n +2 "$RECORD" | paste -sd'\t')"
}

echo "# Captured from upstream $(rsync --version | head -1 | tr -s ' ')"
echo "# by testdata/capture-server-args.sh: direction, client options, remote path,"
echo "# then the remote argv after the program name; all fields tab-separated."
for o in "-av" "-a" "-r" "-d" "-rd" "-l" "-p" "-t" "-g" "-o" "-D" \
	"--devices" "--specials" "--devices --specials" "-a --no-specials" \
	"-a --no-D" "-a --no-devices" "-W" "--no-W" "-a -W --no-W" "-n" "-c" "-I" \
	"--size-only" "--stats" "-h" "--numeric-ids" "-vv" "-q" "-avq" \
	"--checksum-choice=md5" "--cc=xxh128,md5" "--cc=auto" "--cc=AUTO,auto" \
	"--cc=XXH3" "--cc=none" "--cc=md5,none" "--no-W --cc=none" \
	"--protocol=29 -av" "--protocol=30 -av" "--protocol=31 -a" \
	"-avcn --size-only --numeric-ids --stats" "-r --no-r" "-a --no-p --no-t" \
	"-vvvvvvvvvvvv" "-8" "-a --no-o --no-g" "-rlptgoD -W -c -I -n -vvq" \
	"-d --no-d" "-a --no-l --no-recursive" \
	"-az" "-azcI" "-a --zc=zstd" "-a -z --zc=zlib" "-a -zz" "-a -z --zl=9" \
	"-a -z --skip-compress=foo/bar" "-a --zc=lz4 --zl=1" "-a -z --protocol=29" \
	"-a --zc=none" "-a --old-compress" "-a --new-compress" "-a -z --no-z" \
	"-a -z --zc=auto" "-a --zl=3" "-az --cc=md5 --zc=zlibx --zl=2 --stats --numeric-ids" \
	"--compress" "-z --compress-choice=zstd --compress-level=-5" \
	"-a --exclude=x" "-a -C" "-azcIC" "-a -F" "-a -FF --include=y -f-_z" "-0 -a --exclude-from=/dev/null" \
	"-aR" "-R" "-a -R --no-R" "-aR --no-implied-dirs" "-a --no-implied-dirs" \
	"-R --no-i-d --protocol=29" "-R --no-i-d --i-d" "-ax" "-axx" "-x --no-x" \
	"-am" "-m --no-m" "-a --files-from=/dev/null" "-r --files-from=/dev/null" \
	"-a --files-from=/dev/null --no-R" "-a --files-from=/dev/null -0" \
	"-a --files-from=/dev/null --no-implied-dirs" "-a --files-from=:/list" \
	"-a --files-from=:/li*st -0" "-a --files-from=localhost:/a;b --no-R" \
	"-d --files-from=/dev/null" "-aRxxm --no-implied-dirs --protocol=30"; do
	capture push "$o" /dst
	capture pull "$o" /src/
done
# Receiver-side selection, removal of sent files, --mkpath, --list-only.
for o in "-a -u" "-au --existing" "--ignore-existing" "--ignore-non-existing" \
	"--max-size=1.5k" "--min-size=1KB --max-size=2M+1" "--min-size=0" \
	"--modify-window=2" "-@-1" "-u --modify-window=0" "--remove-source-files" \
	"--remove-sent-files" "--mkpath" "--no-mkpath" "--mkpath --no-mkpath" \
	"--list-only" "-a --list-only" \
	"-avu --ignore-existing --existing --max-size=1M --min-size=10 -@3 --remove-source-files --mkpath --numeric-ids --stats"; do
	capture push "$o" /dst
	capture pull "$o" /src/
done
for o in "--list-only" "-u --max-size=1k" "-r --list-only"; do
	capture list "$o" /src/
done
# Deletion.
for o in "-a --delete" "-r --del" "-a --delete-before" "-a --delete-during" \
	"-a --delete-delay" "-a --delete-after" "-a --delete-excluded" \
	"-a --delete --delete-excluded" "-a --delete-after --delete-excluded" \
	"-a --delete --force" "-a --force" "-a --force --no-force" "-a --delete --max-delete=3" \
	"-a --delete --max-delete=0" "-a --delete --max-delete=-5" "-a --max-delete=2" \
	"-a --ignore-errors" "-a --delete --ignore-errors --no-ignore-errors" \
	"-a --delete-missing-args" "-a --ignore-missing-args" \
	"-a --ignore-missing-args --delete-missing-args" "-d --delete" "-d --delete-after" \
	"-a --delete --protocol=29" "-a --delete --max-delete=1 --min-size=1 --max-size=9 --force --stats" \
	"-av --delete-delay --delete-excluded --force --ignore-errors --delete-missing-args --max-delete=7"; do
	capture push "$o" /dst
	capture pull "$o" /src/
done
for o in "" "-a" "-r" "-d" "--no-d" "-v"; do
	capture list "$o" /src/
done
for p in "/a b" "/x*y" "~/foo" "~" "-rf" "/a'b" '/a"b' '/a\b' '/a\*b' "/~x" \
	"/a;b" '/$HOME' "/a[1]" "/a{b}" "/é" '/a\'; do
	capture pull "-a" "$p"
done
for p in "/a b" "~/x" "~" "-x" "x*"; do
	capture push "-a" "$p"
done
# Progress and partial files.
for o in "-P" "--partial" "--progress" "-qP" "-a -P --no-partial" "-r --info=progress2" "-avP --stats"; do
	capture push "$o" /dst
	capture pull "$o" /src/
done

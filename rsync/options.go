package rsync

import (
	"strconv"

	"github.com/gorsync/gorsync/internal/options"
)

// Options are a transfer's options, named after rsync's long options. They
// are turned into rsync's command line and parsed by the same code as the
// gorsync binary's arguments, so each means exactly what the option means
// to rsync, and an option gorsync does not implement is refused the same
// way. Extra takes any option without a field here.
type Options struct {
	Archive   bool // -a, --archive: -rlptgoD
	Recursive bool // -r, --recursive
	Links     bool // -l, --links
	Perms     bool // -p, --perms
	Times     bool // -t, --times
	Group     bool // -g, --group
	Owner     bool // -o, --owner
	Devices   bool // --devices
	Specials  bool // --specials

	Checksum   bool // -c, --checksum
	DryRun     bool // -n, --dry-run
	WholeFile  bool // -W, --whole-file
	NumericIDs bool // --numeric-ids
	Compress   bool // -z, --compress

	Delete         bool // --delete
	DeleteExcluded bool // --delete-excluded

	// Filters are rules in rsync's --filter syntax ("- *.o", "+ src/",
	// "merge .rules"), applied in order.
	Filters []string

	Verbose int  // -v, repeated
	Quiet   bool // -q, --quiet
	Stats   bool // --stats: the statistics block in the output

	// Rsh is the remote shell (-e); empty means $RSYNC_RSH, else ssh.
	Rsh string
	// RsyncPath is the program to run on the remote side (--rsync-path).
	RsyncPath string
	// Protocol caps the protocol version (--protocol); 0 means 32.
	Protocol int

	// Extra are further rsync options, as on the command line
	// ("--max-size=10M", "--exclude-from=list").
	Extra []string
}

// args is o as rsync's command line, before the paths.
func (o *Options) args() []string {
	var a []string
	flag := func(on bool, name string) {
		if on {
			a = append(a, name)
		}
	}
	flag(o.Archive, "--archive")
	flag(o.Recursive, "--recursive")
	flag(o.Links, "--links")
	flag(o.Perms, "--perms")
	flag(o.Times, "--times")
	flag(o.Group, "--group")
	flag(o.Owner, "--owner")
	flag(o.Devices, "--devices")
	flag(o.Specials, "--specials")
	flag(o.Checksum, "--checksum")
	flag(o.DryRun, "--dry-run")
	flag(o.WholeFile, "--whole-file")
	flag(o.NumericIDs, "--numeric-ids")
	flag(o.Compress, "--compress")
	flag(o.Delete, "--delete")
	flag(o.DeleteExcluded, "--delete-excluded")
	for _, f := range o.Filters {
		a = append(a, "--filter="+f)
	}
	for range o.Verbose {
		a = append(a, "--verbose")
	}
	flag(o.Quiet, "--quiet")
	flag(o.Stats, "--stats")
	if o.Rsh != "" {
		a = append(a, "--rsh="+o.Rsh)
	}
	if o.RsyncPath != "" {
		a = append(a, "--rsync-path="+o.RsyncPath)
	}
	if o.Protocol != 0 {
		a = append(a, "--protocol="+strconv.Itoa(o.Protocol))
	}
	return append(a, o.Extra...)
}

// parse turns o and the paths into the parsed command line.
func (o *Options) parse(paths []string, getenv func(string) string) (*options.Options, error) {
	args := append(o.args(), "--")
	return options.Parse(append(args, paths...), getenv)
}

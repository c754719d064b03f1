package session

import (
	"fmt"
	"io"
	"strings"

	"github.com/gorsync/gorsync/internal/checksum"
	"github.com/gorsync/gorsync/internal/options"
	"github.com/gorsync/gorsync/internal/protocol"
)

// The build as --version describes it. Each capability is what gorsync
// does now: one rsync 3.5.0 has but gorsync does not is listed with "no ",
// so scripts (and upstream's own testsuite, which reads -VV) see exactly
// what they can use. rsync: usage.c print_rsync_version, print_info_flags
var (
	capabilities = []string{
		"64-bit files", "64-bit inums", "64-bit timestamps", "64-bit long ints",
		"no socketpairs", "symlinks", "symtimes",
		"no hardlinks", "no hardlink-specials", "no hardlink-symlinks",
		"no IPv6", "no atimes", "batchfiles", "no inplace", "no append",
		"no ACLs", "no xattrs", "no secluded-args", "no iconv", "no prealloc",
		"no stop-at", "no crtimes",
	}
	projectURL = "https://github.com/gorsync/gorsync"
)

// optimizations lists the fast code this build runs: the AVX2 rolling sum
// where the CPU has it (SIMD and assembly at once), and Go's own crypto.
func optimizations() []string {
	roll := "no "
	if checksum.VectorRoll() {
		roll = ""
	}
	return []string{roll + "SIMD-roll", roll + "asm-roll", "no openssl-crypto", "no asm-MD5"}
}

// checksumNames are the --checksum-choice names, with rsync's "(xxhash)"
// alias note, in the order gorsync prefers them.
func checksumNames() []string {
	var names []string
	for _, n := range checksum.DefaultList {
		names = append(names, n)
		if n == "xxh64" {
			names = append(names, "(xxhash)")
		}
	}
	return names
}

// compressNames are the --compress-choice names in the order gorsync
// prefers them.
func compressNames() []string {
	return protocol.DefaultCompressList
}

// writeVersion prints --version's text. rsync: usage.c print_rsync_version
func writeVersion(w io.Writer) {
	fmt.Fprintf(w, "gorsync  version %s  protocol version %d\n", Version, protocol.MaxVersion)
	fmt.Fprintf(w, "rsync re-implemented in Go; speaks rsync protocols %d to %d.\n", protocol.MinVersion, protocol.MaxVersion)
	fmt.Fprintf(w, "Web site: %s\n", projectURL)
	writeFlags(w, "Capabilities", capabilities)
	writeFlags(w, "Optimizations", optimizations())
	for _, l := range []struct {
		name  string
		names []string
	}{{"Checksum list", checksumNames()}, {"Compress list", compressNames()}} {
		fmt.Fprintf(w, "%s:\n    %s\n", l.name, strings.Join(l.names, " "))
	}
	// No "Daemon auth list": gorsync has no daemon yet.
}

// flagLineWidth is the width rsync wraps --version's capability lines at
// (the 75-byte buffer of print_info_flags, less its closing NUL).
const flagLineWidth = 74

// writeFlags prints a heading and its items as rsync does: each " item,"
// appended to a line until it would reach the width, every line indented
// by three spaces.
func writeFlags(w io.Writer, heading string, items []string) {
	fmt.Fprintf(w, "%s:\n", heading)
	var line strings.Builder
	for i, it := range items {
		s := " " + it
		if i < len(items)-1 {
			s += ","
		}
		if line.Len() > 0 && line.Len()+len(s) > flagLineWidth {
			fmt.Fprintf(w, "   %s\n", line.String())
			line.Reset()
		}
		line.WriteString(s)
	}
	if line.Len() > 0 {
		fmt.Fprintf(w, "   %s\n", line.String())
	}
}

// writeVersionJSON prints -VV's JSON description of the build, in rsync's
// shape: "program", "version", "protocol", "url", "capabilities" and
// "optimizations" objects (a "no " item is false, "64-bit files" is
// "file_bits": 64), and the name lists. rsync: usage.c print_rsync_version
// (f == FNONE)
func writeVersionJSON(w io.Writer) {
	fmt.Fprintf(w, "{\n  \"program\": \"gorsync\",\n  \"version\": %q,\n  \"protocol\": \"%d.0\",\n  \"url\": %q",
		Version, protocol.MaxVersion, projectURL)
	for _, g := range []struct {
		name  string
		items []string
	}{{"capabilities", capabilities}, {"optimizations", optimizations()}} {
		fmt.Fprintf(w, ",\n  %q: {\n", g.name)
		var fields []string
		for _, it := range g.items {
			fields = append(fields, jsonFlag(it))
		}
		writeWrapped(w, fields, ", ")
		fmt.Fprint(w, "\n  }")
	}
	for _, l := range []struct {
		name  string
		names []string
	}{{"checksum_list", checksumNames()}, {"compress_list", compressNames()}, {"daemon_auth_list", nil}} {
		var quoted []string
		for _, n := range l.names {
			if !strings.HasPrefix(n, "(") { // rsync leaves the aliases out
				quoted = append(quoted, fmt.Sprintf("%q", n))
			}
		}
		if len(quoted) == 0 {
			fmt.Fprintf(w, ",\n  %q: []", l.name)
			continue
		}
		fmt.Fprintf(w, ",\n  %q: [\n", l.name)
		writeWrapped(w, quoted, ", ")
		fmt.Fprint(w, "\n  ]")
	}
	fmt.Fprint(w, "\n}\n")
}

// jsonFlag turns one capability into its JSON member: "no x" is false,
// "N-bit xs" is "x_bits": N, "word x" is "x": "word", a bare x is true;
// spaces and dashes in names become underscores.
func jsonFlag(item string) string {
	key, val := item, "true"
	if word, rest, ok := strings.Cut(item, " "); ok {
		switch {
		case word == "no":
			key, val = rest, "false"
		case strings.HasSuffix(word, "-bit"):
			key, val = strings.TrimSuffix(rest, "s")+"_bits", strings.TrimSuffix(word, "-bit")
		default:
			key, val = rest, fmt.Sprintf("%q", word)
		}
	}
	key = strings.NewReplacer(" ", "_", "-", "_").Replace(key)
	return fmt.Sprintf("%q: %s", key, val)
}

// writeWrapped prints items joined by sep on lines of at most
// flagLineWidth bytes, each indented by four spaces.
func writeWrapped(w io.Writer, items []string, sep string) {
	var line strings.Builder
	first := true
	for i, it := range items {
		s := it
		if i < len(items)-1 {
			s += strings.TrimRight(sep, " ")
		}
		if line.Len() > 0 && line.Len()+1+len(s) > flagLineWidth {
			if !first {
				fmt.Fprint(w, "\n")
			}
			fmt.Fprintf(w, "    %s", line.String())
			line.Reset()
			first = false
		}
		if line.Len() > 0 {
			line.WriteByte(' ')
		}
		line.WriteString(s)
	}
	if line.Len() > 0 {
		if !first {
			fmt.Fprint(w, "\n")
		}
		fmt.Fprintf(w, "    %s", line.String())
	}
}

// writeHelp prints --help: the version description, then the usage and
// every option gorsync implements. rsync: usage.c usage
func writeHelp(w io.Writer) {
	writeVersion(w)
	fmt.Fprint(w, "\ngorsync is rsync, re-implemented in Go: a file transfer program capable of\nefficient remote update via a fast differencing algorithm.\n\n")
	fmt.Fprint(w, strings.TrimPrefix(options.Usage(), "\n"))
}

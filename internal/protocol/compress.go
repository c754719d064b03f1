package protocol

import (
	"strings"

	"github.com/gorsync/gorsync/internal/negotiate"
)

// DefaultCompressList is rsync's compression preference order; a client
// leaves out "none". rsync: compat.c valid_compressions_items
var DefaultCompressList = []string{"zstd", "lz4", "zlibx", "zlib", "none"}

// CompressList returns the compression names this side offers: the
// RSYNC_COMPRESS_LIST value (a client takes the part before '&', a server the
// part after), known names only, lower-cased, else the default list.
// rsync: compat.c send_negotiate_str, getenv_nstr
func CompressList(env string, amServer bool) []string {
	return negotiate.Local(strings.ToLower(env), amServer, DefaultCompressList, compressName)
}

// compressName resolves a compression name for package negotiate. It
// matches exactly: CompressList lower-cases our names, and a peer's are
// taken as they come.
func compressName(name string) (int, string, bool) {
	for i, n := range DefaultCompressList {
		if n == name {
			return i, name, true
		}
	}
	return 0, "", false
}

func allowed(list []string, name string) bool {
	for _, n := range list {
		if n == name {
			return true
		}
	}
	return false
}

// chooseName picks the first of our names that the peer also offers.
// rsync: compat.c parse_negotiate_str
func chooseName(local, remote []string) string {
	if i := negotiate.Choose(local, remote, compressName); i >= 0 {
		return local[i]
	}
	return ""
}

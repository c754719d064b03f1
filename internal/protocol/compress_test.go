package protocol

import (
	"strings"
	"testing"
)

// TestCompressChoice checks the compression list each side offers and the
// name it then picks from a peer's list.
func TestCompressChoice(t *testing.T) {
	cases := []struct {
		env    string
		server bool
		peer   string
		offer  string
		chosen string
	}{
		{"", false, "zstd lz4 zlibx zlib none", "zstd lz4 zlibx zlib", "zstd"},
		{"", true, "zlib", "zstd lz4 zlibx zlib none", "zlib"},
		{"LZ4 zlib lz4", false, "zstd zlib lz4", "lz4 zlib", "lz4"},
		{"zlib & none zstd", true, "zstd", "none zstd", "zstd"},
		{"zlib & none zstd", false, "zstd", "zlib", ""},
		{"gzip", false, "zlib", "INVALID", ""},
		// A peer's names are matched as they are sent.
		{"", false, "ZLIB", "zstd lz4 zlibx zlib", ""},
	}
	for _, c := range cases {
		offer := CompressList(c.env, c.server)
		if got := strings.Join(offer, " "); got != c.offer {
			t.Errorf("CompressList(%q, server=%v) = %q, want %q", c.env, c.server, got, c.offer)
		}
		if got := chooseName(offer, strings.Fields(c.peer)); got != c.chosen {
			t.Errorf("chooseName(%q, %q) = %q, want %q", c.offer, c.peer, got, c.chosen)
		}
	}
}

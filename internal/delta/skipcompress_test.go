package delta

import "testing"

func TestSkipCompressDefault(t *testing.T) {
	s := DefaultSkipCompress()
	cases := []struct {
		name string
		want bool
	}{
		{"a.gz", true},
		{"dir/photo.JPG", true},
		{"archive.tar.gz", true},
		{"movie.m2ts", true},
		{"x.z", true},
		{"x.Z", true},
		{"fs.squashfs", true},
		{"notes.txt", false},
		{".gz", false}, // a leading dot is no suffix
		{"gz", false},
		{"a.gz.txt", false},
		{"a.", false},
		{"dir.gz/file", false},
		{"a.mp3x", false},
	}
	for _, c := range cases {
		if got := s.Match(c.name); got != c.want {
			t.Errorf("default Match(%q) = %v, want %v", c.name, got, c.want)
		}
	}
	if s.All() {
		t.Error("the default list is not \"*\"")
	}
}

func TestSkipCompressParse(t *testing.T) {
	var s SkipCompress
	s.Parse("gz/jpg/mp[34]/7z//bz2/[b/a[]")
	cases := []struct {
		name string
		want bool
	}{
		{"x.gz", true}, {"x.JPG", true}, {"x.mp3", true}, {"x.MP4", true}, {"x.mp5", false},
		{"x.mp[34]", false}, {"x.7z", true}, {"x.bz2", true}, {"x.[b", true}, {"x.a[]", true},
		{"x.png", false}, {"x.mp", false},
	}
	for _, c := range cases {
		if got := s.Match(c.name); got != c.want {
			t.Errorf("Match(%q) = %v, want %v", c.name, got, c.want)
		}
	}
	var none SkipCompress
	none.Parse("")
	if none.Match("x.gz") {
		t.Error("an empty list matched")
	}
}

func TestSkipCompressPatterns(t *testing.T) {
	var s SkipCompress
	s.AddPatterns("*.gz  Makefile* ??.bin")
	for name, want := range map[string]bool{"a.GZ": true, "makefile.am": true, "ab.bin": true, "abc.bin": false, "x": false} {
		if got := s.Match(name); got != want {
			t.Errorf("Match(%q) = %v, want %v", name, got, want)
		}
	}
	var all SkipCompress
	all.AddPatterns("*")
	if !all.All() || !all.Match("anything") {
		t.Error("\"*\" does not match everything")
	}
}

func TestNormalizeLevel(t *testing.T) {
	cases := []struct {
		c         Compression
		in        int
		wantC     Compression
		wantLevel int
	}{
		{Zlib, LevelUnspecified, Zlib, 6},
		{Zlib, -1, Zlib, 6},
		{Zlib, 0, NoCompression, 0},
		{Zlib, 12, Zlib, 9},
		{Zlibx, -5, Zlibx, 1},
		{Zstd, LevelUnspecified, Zstd, 3},
		{Zstd, 0, Zstd, 3},
		{Zstd, -200000, Zstd, -131072},
		{Zstd, 99, Zstd, 22},
		{LZ4, 5, LZ4, 0},
		{NoCompression, 3, NoCompression, 0},
	}
	for _, c := range cases {
		gotC, got := NormalizeLevel(c.c, c.in)
		if gotC != c.wantC || got != c.wantLevel {
			t.Errorf("NormalizeLevel(%s, %d) = %s, %d; want %s, %d", c.c, c.in, gotC, got, c.wantC, c.wantLevel)
		}
	}
}

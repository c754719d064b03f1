package flist

import "testing"

// TestListCap checks the entries a list may hold under --max-alloc
// against rsync's growth of its pointer array (32 Ki, doubling to 16 Mi,
// then 16 Mi more at a time, refused once it would reach the limit).
func TestListCap(t *testing.T) {
	tests := []struct {
		maxAlloc int64
		want     int64
	}{
		{1 << 20, 65536},        // measured with upstream: 65,536 pass, 65,537 fail
		{1<<20 + 8, 131072},     // the next doubling fits under the limit
		{4 << 20, 262144},       // 512 Ki entries would take 4 MiB
		{0, 117440512},          // 1 GiB default: 7 × 16 Mi, linear past 16 Mi
		{128<<20 + 8, 16777216}, // 16 Mi, then linear growth refused
	}
	for _, tt := range tests {
		o := Options{MaxAlloc: tt.maxAlloc}
		if got := o.ListCap(); got != tt.want {
			t.Errorf("ListCap(%d) = %d, want %d", tt.maxAlloc, got, tt.want)
		}
	}
}

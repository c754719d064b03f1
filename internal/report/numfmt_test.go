package report

import (
	"math"
	"testing"
)

// The expectations below were produced by rsync 3.5.0's do_big_num and
// do_big_dnum (lib/compat.c) compiled into a small C harness, in the C locale.

func TestHumanNum(t *testing.T) {
	tests := []struct {
		n     int64
		human int
		want  string
	}{
		{0, 0, "0"},
		{-1234567, 0, "-1234567"},
		{math.MinInt64, 0, "-9223372036854775808"},
		{999, 1, "999"},
		{1000, 1, "1,000"},
		{-1234567, 1, "-1,234,567"},
		{math.MinInt64, 1, "-9,223,372,036,854,775,808"},
		{999, 2, "999"},
		{1000, 2, "1.00K"},
		{999994, 2, "999.99K"},
		{999995, 2, "1000.00K"}, // rounding after the unit is chosen, as in rsync
		{-1500, 2, "-1.50K"},
		{1023, 3, "1,023"},
		{1024, 3, "1.00K"},
		{1048064, 3, "1023.50K"},
		{1048576, 4, "1.00M"}, // every level above 2 is binary
		{1000000000000000, 2, "1.00P"},
		{1125899906842624, 3, "1.00P"},
		{math.MaxInt64, 2, "9223.37P"},
	}
	for _, tt := range tests {
		if got := HumanNum(tt.n, tt.human); got != tt.want {
			t.Errorf("HumanNum(%d, %d) = %q, want %q", tt.n, tt.human, got, tt.want)
		}
	}
}

func TestCommaNumNeverUsesUnits(t *testing.T) {
	tests := []struct {
		n     int64
		human int
		want  string
	}{
		{1234567, 0, "1234567"},
		{1234567, 1, "1,234,567"},
		{1234567, 2, "1,234,567"},
		{1234567, 3, "1,234,567"},
		{-1000, 3, "-1,000"},
	}
	for _, tt := range tests {
		if got := CommaNum(tt.n, tt.human); got != tt.want {
			t.Errorf("CommaNum(%d, %d) = %q, want %q", tt.n, tt.human, got, tt.want)
		}
	}
	if got := BigNum(1234567); got != "1234567" {
		t.Errorf("BigNum(1234567) = %q, want %q", got, "1234567")
	}
}

func TestHumanDnum(t *testing.T) {
	tests := []struct {
		d         float64
		decimals  int
		human     int
		want      string
		wantComma string // CommaDnum at the same level
	}{
		{1234567.891, 2, 0, "1234567.89", "1234567.89"},
		{999.994, 2, 1, "999.99", "999.99"},
		{999.996, 2, 1, "1000.00", "1000.00"},    // under 1000 before rounding: no separator
		{1234.996, 2, 1, "1,234.00", "1,234.00"}, // rounded fraction, truncated integer part
		{-1234.5, 2, 1, "-1,234.50", "-1,234.50"},
		{0.0005, 3, 1, "0.001", "0.001"},
		{1234.5, 2, 2, "1.23K", "1,234.50"},
		{999.999, 2, 2, "1000.00", "1000.00"},
		{1023.5, 2, 3, "1,023.50", "1,023.50"},
		{1024, 2, 3, "1.00K", "1,024.00"},
		{2481750, 2, 1, "2,481,750.00", "2,481,750.00"},
		{2481750, 2, 2, "2.48M", "2,481,750.00"},
		{23769097787.39, 2, 1, "23,769,097,787.39", "23,769,097,787.39"},
		{math.Inf(1), 2, 1, "inf", "inf"},
	}
	for _, tt := range tests {
		if got := HumanDnum(tt.d, tt.decimals, tt.human); got != tt.want {
			t.Errorf("HumanDnum(%v, %d, %d) = %q, want %q", tt.d, tt.decimals, tt.human, got, tt.want)
		}
		if got := CommaDnum(tt.d, tt.decimals, tt.human); got != tt.wantComma {
			t.Errorf("CommaDnum(%v, %d, %d) = %q, want %q", tt.d, tt.decimals, tt.human, got, tt.wantComma)
		}
	}
}

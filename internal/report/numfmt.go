package report

import (
	"math"
	"strconv"
)

// Human levels as rsync's -h counts them: rsync 3.5.0 starts at 1, each -h
// adds one and --no-h sets 0.
const (
	HumanOff     = 0 // --no-h: plain digits
	HumanCommas  = 1 // the default: thousands separators
	HumanDecimal = 2 // -h: K/M/G/T/P in powers of 1000
	HumanBinary  = 3 // -hh (and more): K/M/G/T/P in powers of 1024
)

// numberSeparator is rsync's thousands separator in the C locale, which is
// what gorsync always formats for: get_number_separator picks ',' whenever
// the locale's decimal point is '.'.
const numberSeparator = ','

// BigNum formats n as plain decimal digits, like rsync's big_num.
func BigNum(n int64) string {
	return bigNum(n, HumanOff, "")
}

// CommaNum formats n like rsync's comma_num: with thousands separators unless
// human is HumanOff (--no-h), and never with a unit suffix.
func CommaNum(n int64, human int) string {
	if human != HumanOff {
		human = HumanCommas
	}
	return bigNum(n, human, "")
}

// HumanNum formats n like rsync's human_num at the given -h level: plain
// digits at 0, separators at 1, and a two-decimal K/M/G/T/P figure above that
// once |n| reaches one unit.
func HumanNum(n int64, human int) string {
	return bigNum(n, human, "")
}

// CommaDnum formats d with the given number of decimals like rsync's
// comma_dnum: separators in the integer part unless human is HumanOff.
func CommaDnum(d float64, decimals, human int) string {
	if human != HumanOff {
		human = HumanCommas
	}
	return bigDnum(d, human, decimals)
}

// HumanDnum formats d with the given number of decimals like rsync's
// human_dnum, which may replace the figure by a K/M/G/T/P one at -h levels
// above 1.
func HumanDnum(d float64, decimals, human int) string {
	return bigDnum(d, human, decimals)
}

// bigNum formats num at the given human level, appending fract (a decimal
// fraction) when no unit suffix is used.
//
// rsync: lib/compat.c do_big_num
func bigNum(num int64, human int, fract string) string {
	if human > 1 {
		mult := int64(1024)
		if human == 2 {
			mult = 1000
		}
		if num >= mult || num <= -mult {
			return unitNum(num, float64(mult))
		}
	}

	var buf [64]byte // 20 digits, 6 separators, a sign
	i := len(buf)
	// Work on the magnitude as uint64 so that math.MinInt64 needs no
	// special digit the way rsync's negated-form loop does.
	mag := uint64(num)
	if num < 0 {
		mag = -mag
	}
	if mag == 0 {
		i--
		buf[i] = '0'
	}
	for digits := 0; mag != 0; digits++ {
		if human != HumanOff && digits > 0 && digits%3 == 0 {
			i--
			buf[i] = numberSeparator
		}
		i--
		buf[i] = byte('0' + mag%10)
		mag /= 10
	}
	if num < 0 {
		i--
		buf[i] = '-'
	}
	return string(buf[i:]) + fract
}

// unitNum formats num as a figure with two decimals and a K, M, G, T or P
// suffix in powers of mult.
//
// rsync: lib/compat.c do_big_num (human_flag > 1)
func unitNum(num int64, mult float64) string {
	d := float64(num) / mult
	if num < 0 {
		d = -d
	}
	units := byte('P')
	for _, u := range []byte("KMGT") {
		if d < mult {
			units = u
			break
		}
		d /= mult
	}
	if num < 0 {
		d = -d
	}
	b := make([]byte, 0, 24)
	b = strconv.AppendFloat(b, d, 'f', 2, 64)
	return string(append(b, units))
}

// bigDnum formats d with decimals digits after the point at the given human
// level. Like rsync it keeps the rounded fraction of the printf form but
// groups the truncated integer part, so 1234.996 prints as "1,234.00".
//
// rsync: lib/compat.c do_big_dnum
func bigDnum(d float64, human, decimals int) string {
	if math.IsInf(d, 0) || math.IsNaN(d) {
		// C's printf spelling; rsync's own path for these relies on an
		// undefined float-to-int conversion, which we do not mimic.
		return cNonFinite(d)
	}
	s := strconv.FormatFloat(d, 'f', decimals, 64)
	if human == HumanOff || (d < 1000 && d > -1000) {
		return s
	}
	j := 1
	for j < len(s) && s[j] >= '0' && s[j] <= '9' {
		j++
	}
	return bigNum(int64(d), human, s[j:])
}

// cNonFinite spells an infinity or NaN the way glibc's printf("%f") does.
func cNonFinite(d float64) string {
	switch {
	case math.IsInf(d, 1):
		return "inf"
	case math.IsInf(d, -1):
		return "-inf"
	case math.Signbit(d):
		return "-nan"
	}
	return "nan"
}

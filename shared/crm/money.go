package crm

import (
	"fmt"
	"math/big"
	"strings"
)

// Money is an exact amount in a currency's minor units (cents for EUR).
type Money struct {
	Minor    int64
	Currency string // ISO 4217 code, upper case
}

// minorDigits lists the currencies whose minor unit is not 1/100.
var minorDigits = map[string]int{
	"BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0,
	"RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
	"BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
}

// Digits returns how many decimal places the currency's minor unit has.
func Digits(currency string) int {
	if d, ok := minorDigits[currency]; ok {
		return d
	}
	return 2
}

// maxMinor keeps amounts far from int64 overflow when summed.
const maxMinor = 1_000_000_000_000_000 // 10^15 minor units

// ParseMoney reads a decimal amount such as "1250.50" in currency. It
// rejects more decimal places than the currency has rather than rounding.
func ParseMoney(amount, currency string) (Money, error) {
	currency = strings.ToUpper(strings.TrimSpace(currency))
	if len(currency) != 3 || strings.Trim(currency, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
		return Money{}, fmt.Errorf("currency must be a three-letter ISO 4217 code such as EUR")
	}
	r, ok := new(big.Rat).SetString(strings.TrimSpace(amount))
	if !ok || strings.ContainsAny(amount, "eE/") {
		return Money{}, fmt.Errorf("must be a decimal amount such as 1250.50")
	}
	scale := new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(Digits(currency))), nil))
	r.Mul(r, scale)
	if !r.IsInt() {
		return Money{}, fmt.Errorf("%s has %d decimal places at most", currency, Digits(currency))
	}
	if r.Sign() < 0 || r.Num().Cmp(big.NewInt(maxMinor)) > 0 {
		return Money{}, fmt.Errorf("must be between 0 and 10^15 minor units")
	}
	return Money{Minor: r.Num().Int64(), Currency: currency}, nil
}

// String prints the amount in major units, e.g. "1250.50".
func (m Money) String() string {
	d := Digits(m.Currency)
	if d == 0 {
		return fmt.Sprintf("%d", m.Minor)
	}
	p := int64(1)
	for range d {
		p *= 10
	}
	return fmt.Sprintf("%d.%0*d", m.Minor/p, d, m.Minor%p)
}

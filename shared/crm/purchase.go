package crm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/rapportcrm/rapport/events"
)

// Purchase is something an existing customer bought, recorded by staff
// after the deal that made them a customer.
type Purchase struct {
	ID         string
	CustomerID string
	Amount     Money
	// At is when the customer bought; zero means now when recording.
	At time.Time
	// Description says what was bought: free text, never in events.
	Description string
	RecordedBy  string
	RecordedAt  time.Time
}

// MaxPurchaseDescription is the longest description a purchase keeps.
const MaxPurchaseDescription = 500

// PurchaseRequest is everything RecordPurchase writes.
type PurchaseRequest struct {
	Purchase Purchase
	// Customer is the customer after the purchase, stored if it still has
	// PrevCustomerDeals deals.
	Customer          Customer
	PrevCustomerDeals int
	Events            []events.Envelope
	// IdempotencyKey is the client's Idempotency-Key header, if any, and
	// Fingerprint a digest of the purchase it was sent with.
	IdempotencyKey string
	Fingerprint    string
}

// purchaseAttempts bounds how often RecordPurchase reads the customer
// again after losing a race with another change to it.
const purchaseAttempts = 5

// RecordPurchase records a purchase by customer customerID: it adds the
// amount to the customer's value and one to its deals, and publishes
// purchase.recorded, all at once. It returns the purchase and whether it
// was recorded now; with an idempotency key already used for the same
// purchase it records nothing and returns the first one. EINVALID,
// ENOTFOUND, ECONFLICT when the key was used for another purchase.
func (s *LeadService) RecordPurchase(ctx context.Context, actor, customerID string, p Purchase, idempotencyKey string) (Purchase, bool, error) {
	if !ValidID(customerID) {
		return Purchase{}, false, Errorf(ENOTFOUND, "no customer %s", customerID)
	}
	now := s.Now().UTC()
	in, err := checkPurchase(p, idempotencyKey, now)
	if err == nil {
		var v Invalid
		s.checkCurrency(p.Amount, &v)
		err = v.Err()
	}
	if err != nil {
		return Purchase{}, false, err
	}
	fp := purchaseFingerprint(customerID, p, in.Description)
	for range purchaseAttempts {
		if idempotencyKey != "" {
			prior, seen, err := s.Store.PurchaseByKey(ctx, idempotencyKey, fp, now)
			if seen || err != nil {
				return prior, false, err
			}
		}
		cust, err := s.Store.CustomerByID(ctx, customerID)
		if err != nil {
			return Purchase{}, false, err
		}
		if in.At.Before(cust.CreatedAt) {
			return Purchase{}, false, &Error{Code: EINVALID, Message: "invalid purchased_at",
				Fields: []FieldError{{"purchased_at", "is before the customer existed"}}}
		}
		rec := in
		rec.ID, rec.CustomerID, rec.RecordedBy, rec.RecordedAt = NewID(now), cust.ID, actor, now
		prevDeals := cust.Deals
		ev, err := events.Wrap(events.PurchaseRecorded{
			Metadata:       events.Metadata{EventID: NewID(now), OccurredAt: now},
			PurchaseID:     rec.ID,
			CustomerID:     cust.ID,
			Amount:         events.Money{Minor: rec.Amount.Minor, Currency: rec.Amount.Currency},
			PurchasedAt:    rec.At,
			RepeatCustomer: prevDeals > 0,
			Owner:          actor,
		})
		if err != nil {
			return Purchase{}, false, err
		}
		err = s.Store.RecordPurchase(ctx, PurchaseRequest{
			Purchase: rec, Customer: cust.AddDeal(rec.Amount, now), PrevCustomerDeals: prevDeals,
			Events: []events.Envelope{ev}, IdempotencyKey: idempotencyKey, Fingerprint: fp,
		})
		switch ErrorCode(err) {
		case "":
			return rec, true, nil
		case ECONFLICT:
			// The customer changed, or the same key raced us: read both
			// again, and answer a lost race on the key as the winner did.
			continue
		default:
			return Purchase{}, false, err
		}
	}
	return Purchase{}, false, Errorf(ECONFLICT, "customer %s is being changed by others; try again", customerID)
}

// checkPurchase validates p and returns it cleaned, At defaulted to now.
func checkPurchase(p Purchase, idempotencyKey string, now time.Time) (Purchase, error) {
	var v Invalid
	if len(idempotencyKey) > MaxIdempotencyKey || !utf8.ValidString(idempotencyKey) {
		v.Add("Idempotency-Key", "must be at most 255 characters of text")
	}
	if _, err := ParseMoney("0", p.Amount.Currency); err != nil || p.Amount.Currency != strings.ToUpper(p.Amount.Currency) {
		v.Add("currency", "must be a three-letter ISO 4217 code such as EUR")
	}
	if p.Amount.Minor < 0 || p.Amount.Minor > maxMinor {
		v.Add("amount", "must be between 0 and 10^15 minor units")
	}
	out := Purchase{Amount: p.Amount, At: now}
	if !p.At.IsZero() {
		out.At = p.At.UTC()
		if out.At.After(now) {
			v.Add("purchased_at", "cannot be in the future")
		}
	}
	out.Description = cleanText(p.Description, MaxPurchaseDescription, "description", &v)
	return out, v.Err()
}

// purchaseFingerprint digests a purchase as it was sent, before defaults:
// a retry of a purchase "made now" must match its first attempt.
func purchaseFingerprint(customerID string, p Purchase, description string) string {
	at := ""
	if !p.At.IsZero() {
		at = p.At.UTC().Format(time.RFC3339Nano)
	}
	h := sha256.New()
	for _, f := range []string{customerID, fmt.Sprint(p.Amount.Minor), p.Amount.Currency, at, description} {
		fmt.Fprintf(h, "%d:%s;", len(f), f)
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// KeyReused is the answer to an Idempotency-Key sent again with another
// request than the one it first came with.
func KeyReused() error {
	return &Error{Code: ECONFLICT,
		Message: "this Idempotency-Key was used for a different request",
		Fields:  []FieldError{{Field: "Idempotency-Key", Reason: "was used for a different request"}}}
}

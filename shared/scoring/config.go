package scoring

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rapportcrm/rapport/shared/crm"
	"github.com/rapportcrm/rapport/shared/scorecard"
)

// Config is the organisation's scorecard setting as stored: its overrides
// of the catalogue and their version. Version 0 is no setting saved, the
// catalogue as it ships.
type Config struct {
	Overrides scorecard.Overrides
	Version   int64
	// UpdatedAt and UpdatedBy (a token subject) say who saved it last;
	// zero at version 0.
	UpdatedAt time.Time
	UpdatedBy string
}

// ConfigStore keeps the one scorecard config; dynamo.ScorecardConfigStore
// implements it.
type ConfigStore interface {
	// Config returns the saved config. ENOTFOUND when none was ever
	// saved.
	Config(ctx context.Context) (Config, error)
	// PutConfig saves c in place of version prev (0: none saved yet).
	// EPRECONDITION when the saved version is not prev.
	PutConfig(ctx context.Context, c Config, prev int64) error
}

// Settings is the config in force: the catalogue the card is scored
// against, with the overrides and version it was made from.
type Settings struct {
	Config
	Catalogue *scorecard.Catalogue
}

// Settings returns the config in force: one read of the store, or the
// catalogue unchanged when the Service has no ConfigStore or none was
// saved. A saved config the catalogue no longer accepts (a KPI it dropped)
// is an internal error: scoring against half of it would mislead.
func (s *Service) Settings(ctx context.Context) (Settings, error) {
	base := s.catalogue()
	if s.Config == nil {
		return Settings{Catalogue: base}, nil
	}
	c, err := s.Config.Config(ctx)
	switch {
	case crm.ErrorCode(err) == crm.ENOTFOUND:
		return Settings{Catalogue: base}, nil
	case err != nil:
		return Settings{}, err
	}
	cat, err := base.WithOverrides(c.Overrides)
	if err != nil {
		return Settings{}, fmt.Errorf("scorecard config version %d no longer applies: %w", c.Version, err)
	}
	return Settings{Config: c, Catalogue: cat}, nil
}

// SetConfig replaces the saved overrides with o, by the staff member sub,
// if the saved version is still ifMatch (0 for the catalogue as it
// ships). EINVALID naming each field that is wrong (such as
// kpis.nps.target), with nothing saved; EPRECONDITION when the config
// changed since it was read.
func (s *Service) SetConfig(ctx context.Context, o scorecard.Overrides, ifMatch int64, sub string) (Settings, error) {
	if s.Config == nil {
		return Settings{}, errors.New("scoring: SetConfig without a ConfigStore")
	}
	cat, err := s.catalogue().WithOverrides(o)
	if err != nil {
		return Settings{}, invalidConfig(err)
	}
	c := Config{Overrides: o, Version: ifMatch + 1, UpdatedAt: s.now().UTC(), UpdatedBy: sub}
	if err := s.Config.PutConfig(ctx, c, ifMatch); err != nil {
		return Settings{}, err
	}
	return Settings{Config: c, Catalogue: cat}, nil
}

// invalidConfig turns the engine's field errors into the domain's.
func invalidConfig(err error) error {
	out := &crm.Error{Code: crm.EINVALID, Message: "invalid scorecard config"}
	var walk func(error)
	walk = func(err error) {
		var fe *scorecard.FieldError
		switch j := err.(type) {
		case interface{ Unwrap() []error }:
			for _, e := range j.Unwrap() {
				walk(e)
			}
		default:
			if errors.As(err, &fe) {
				out.Fields = append(out.Fields, crm.FieldError{Field: fe.Field, Reason: fe.Reason})
			} else {
				out.Fields = append(out.Fields, crm.FieldError{Field: "body", Reason: err.Error()})
			}
		}
	}
	walk(err)
	return out
}

package survey_test

import (
	"errors"

	"github.com/rapportcrm/rapport/shared/crm"
)

func asCRM(err error) (*crm.Error, bool) {
	var e *crm.Error
	ok := errors.As(err, &e)
	if !ok {
		return &crm.Error{}, false
	}
	return e, true
}

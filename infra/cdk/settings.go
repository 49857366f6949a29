package main

import (
	"encoding/json"
	"fmt"
	"net/mail"
	"strings"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/rapportcrm/rapport/shared/config"
)

// Context keys a deployer sets in cdk.json or with `cdk deploy -c KEY=VALUE`.
const (
	CtxCORSAllowedOrigins  = "rapport:corsAllowedOrigins"  // list, or comma-separated string
	CtxFormRedirectOrigins = "rapport:formRedirectOrigins" // list, or comma-separated string
	CtxOrgTimeZone         = "rapport:orgTimeZone"         // IANA name
	CtxLeadDuplicateWindow = "rapport:leadDuplicateWindow" // Go duration, e.g. 720h
	CtxAlarmEmail          = "rapport:alarmEmail"          // address the alarm topic mails; empty for none
	CtxStage               = "rapport:stage"               // dev or prod; `make deploy STAGE=...` sets it
)

// Settings are the deployment's choices, read from CDK context and handed to
// every function in its environment.
type Settings struct {
	CORSAllowedOrigins  []string
	FormRedirectOrigins []string
	OrgTimeZone         string
	LeadDuplicateWindow string
	// AlarmEmail is subscribed to the alarm topic when set. It is not
	// passed to the functions.
	AlarmEmail string
}

// SettingsFromContext reads the settings from the construct tree's context
// and checks them with the same parser the functions use at cold start, so a
// malformed origin or time zone fails `cdk synth` rather than every Lambda
// after the deployment.
func SettingsFromContext(node constructs.Node) (Settings, error) {
	var s Settings
	var err error
	if s.CORSAllowedOrigins, err = contextList(node, CtxCORSAllowedOrigins); err != nil {
		return Settings{}, err
	}
	if s.FormRedirectOrigins, err = contextList(node, CtxFormRedirectOrigins); err != nil {
		return Settings{}, err
	}
	if s.OrgTimeZone, err = contextString(node, CtxOrgTimeZone); err != nil {
		return Settings{}, err
	}
	if s.OrgTimeZone == "" {
		s.OrgTimeZone = config.DefaultTimeZone
	}
	if s.LeadDuplicateWindow, err = contextString(node, CtxLeadDuplicateWindow); err != nil {
		return Settings{}, err
	}
	if s.LeadDuplicateWindow == "" {
		s.LeadDuplicateWindow = config.DefaultDuplicateWindow.String()
	}
	if s.AlarmEmail, err = contextString(node, CtxAlarmEmail); err != nil {
		return Settings{}, err
	}
	if s.AlarmEmail != "" {
		if a, err := mail.ParseAddress(s.AlarmEmail); err != nil || a.Address != s.AlarmEmail {
			return Settings{}, fmt.Errorf("%s: %q is not an email address such as ops@example.com", CtxAlarmEmail, s.AlarmEmail)
		}
	}
	// The table and bus names are tokens until deployment; any non-empty
	// value stands in for them here.
	env := s.Environment("table", "bus")
	if _, err := config.FromEnv(func(k string) string { return env[k] }); err != nil {
		return Settings{}, err
	}
	return s, nil
}

// Environment returns the variables shared/config reads, for a function of
// a stack whose table and bus have the given names.
func (s Settings) Environment(tableName, busName string) map[string]string {
	return map[string]string{
		"TABLE_NAME":            tableName,
		"EVENT_BUS_NAME":        busName,
		"ORG_TIME_ZONE":         s.OrgTimeZone,
		"CORS_ALLOWED_ORIGINS":  strings.Join(s.CORSAllowedOrigins, ","),
		"FORM_REDIRECT_ORIGINS": strings.Join(s.FormRedirectOrigins, ","),
		"LEAD_DUPLICATE_WINDOW": s.LeadDuplicateWindow,
	}
}

// contextString reads a string context value; absent is "".
func contextString(node constructs.Node, key string) (string, error) {
	switch v := node.TryGetContext(jsii.String(key)).(type) {
	case nil:
		return "", nil
	case string:
		return strings.TrimSpace(v), nil
	default:
		return "", fmt.Errorf("%s must be a string, not %v", key, v)
	}
}

// contextList reads a list context value. cdk.json gives a JSON list; on the
// command line (-c KEY=VALUE) it arrives as a string, which may be
// comma-separated or a JSON list.
func contextList(node constructs.Node, key string) ([]string, error) {
	var out []string
	switch v := node.TryGetContext(jsii.String(key)).(type) {
	case nil:
	case string:
		v = strings.TrimSpace(v)
		if strings.HasPrefix(v, "[") {
			if err := json.Unmarshal([]byte(v), &out); err != nil {
				return nil, fmt.Errorf("%s: %w", key, err)
			}
			break
		}
		for _, item := range strings.Split(v, ",") {
			if item = strings.TrimSpace(item); item != "" {
				out = append(out, item)
			}
		}
	case []any:
		for _, item := range v {
			str, ok := item.(string)
			if !ok {
				return nil, fmt.Errorf("%s must list strings, not %v", key, item)
			}
			if str = strings.TrimSpace(str); str != "" {
				out = append(out, str)
			}
		}
	default:
		return nil, fmt.Errorf("%s must be a list of origins, not %v", key, v)
	}
	for _, item := range out {
		if strings.Contains(item, ",") {
			return nil, fmt.Errorf("%s: %q holds a comma", key, item)
		}
	}
	return out, nil
}

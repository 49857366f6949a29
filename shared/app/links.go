package app

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/rapportcrm/rapport/shared/links"
)

// LoadLinks reads the keyring that signs customers' links from the
// Secrets Manager secret Config.LinksSecretARN names into d.Links, once per
// cold start. The CDK stack generates the secret; a rotation adds a key and
// keeps the previous ones, so links already sent keep working, and new
// cold starts sign with the new key.
func LoadLinks(ctx context.Context, cfg aws.Config, d *Deps) error {
	arn := d.Config.LinksSecretARN
	if arn == "" {
		return fmt.Errorf("LINKS_SECRET_ARN is not set")
	}
	out, err := secretsmanager.NewFromConfig(cfg).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)})
	if err != nil {
		return fmt.Errorf("read the link keyring secret: %w", err)
	}
	if out.SecretString == nil {
		return fmt.Errorf("the link keyring secret has no string value")
	}
	// ParseKeyring's errors never repeat the secret.
	if d.Links, err = links.ParseKeyring(*out.SecretString); err != nil {
		return fmt.Errorf("the link keyring secret: %w", err)
	}
	return nil
}

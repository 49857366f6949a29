package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// LinksSecretVariable is the variable that names the link keyring's secret
// to the functions that read it (shared/config's LinksSecretARN).
const LinksSecretVariable = "LINKS_SECRET_ARN"

// The first key of the link keyring, in shared/links' stored form: a flat
// JSON object whose "current" names the signing key and whose other members
// are key ids and their secrets. Secrets Manager fills one top-level member
// of a template, which is why the form is flat.
const (
	linkKeyTemplate = `{"current":"k1"}`
	linkKeyID       = "k1"
	// 64 letters and digits: about 380 bits, printable ASCII without
	// quotes or backslashes, so it travels through JSON unchanged.
	linkKeyLength = 64
)

// linkKeyringReason is why the keyring has no automatic rotation, for
// cdk-nag's SMG4 suppression.
const linkKeyringReason = "The link keyring is rotated by hand, as the README's section Rotating the link key describes: " +
	"add a new key, make it current once every function has read it, and retire the previous one only after the " +
	"longest link lifetime, so links already in customers' mail keep working. A Secrets Manager rotation is one " +
	"run that replaces the value; this rotation is three steps days apart, and a rotation function doing it would " +
	"be more code with the keys than the manual steps it saves."

// linkKeyring returns the secret holding the keyring that signs and
// verifies customers' links (/t/{token}, /s/{token}), creating it on first
// use so a stack whose functions sign no links has none. Secrets Manager
// generates the first key at deployment, so no one types one.
func (s *rapportStack) linkKeyring() awssecretsmanager.Secret {
	if s.linkKeys != nil {
		return s.linkKeys
	}
	s.linkKeys = awssecretsmanager.NewSecret(s.stack, jsii.String("LinkKeys"), &awssecretsmanager.SecretProps{
		Description: jsii.String("Rapport " + string(s.stage) + ": the keyring that signs customers' links " +
			`(ticket pages, surveys), {"current":"<id>","<id>":"<secret>",...}; rotate as the README says.`),
		GenerateSecretString: &awssecretsmanager.SecretStringGenerator{
			SecretStringTemplate: jsii.String(linkKeyTemplate),
			GenerateStringKey:    jsii.String(linkKeyID),
			PasswordLength:       jsii.Number(linkKeyLength),
			ExcludePunctuation:   jsii.Bool(true),
			IncludeSpace:         jsii.Bool(false),
		},
		// In prod the keys outlive the stack: links in customers' mail can be
		// honoured again by copying them into a new stack's secret.
		RemovalPolicy: s.stage.removalPolicy(),
	})
	output(s.stack, "LinkKeysSecretArn", s.linkKeys.SecretArn(),
		"Secret holding the keyring that signs customers' links; rotate it as the README says")
	cdknag.NagSuppressions_AddResourceSuppressions(s.linkKeys, &[]*cdknag.NagPackSuppression{{
		Id:     jsii.String("AwsSolutions-SMG4"),
		Reason: jsii.String(linkKeyringReason),
	}}, nil)
	return s.linkKeys
}

// grantLinkKeys lets fn read the link keyring, the one call it makes
// (GetSecretValue at cold start), and names the secret in its environment.
func (s *rapportStack) grantLinkKeys(fn awslambda.Function) {
	secret := s.linkKeyring()
	fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("secretsmanager:GetSecretValue"),
		Resources: jsii.Strings(*secret.SecretArn()),
	}))
	fn.AddEnvironment(jsii.String(LinksSecretVariable), secret.SecretArn(), nil)
}

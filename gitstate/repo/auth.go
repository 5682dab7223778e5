package repo

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"

	"github.com/fleetdeck/fleetdeck/config"
)

// defaultTokenUser is the HTTP basic-auth user sent with a token when none is
// configured; GitHub, GitLab and Gitea all accept any non-empty user.
const defaultTokenUser = "git"

// AuthMethod builds the go-git transport credentials for a repository, for
// fetches and pushes alike (ssh-agent, key file, token from an environment
// variable). It returns the secret it read (a token), so errors can be
// scrubbed of it with MaskCredentials.
func AuthMethod(cfg config.Repository, getenv func(string) string) (transport.AuthMethod, string, error) {
	a := cfg.Auth
	switch a.Method {
	case "", config.AuthNone:
		return nil, "", nil
	case config.AuthToken:
		if a.TokenEnv == "" {
			return nil, "", errors.New("auth method token needs tokenEnv, the environment variable holding the token")
		}
		tok := strings.TrimSpace(getenv(a.TokenEnv))
		if tok == "" {
			return nil, "", fmt.Errorf("auth token: environment variable %s is empty or unset", a.TokenEnv)
		}
		user := a.Username
		if user == "" {
			user = defaultTokenUser
		}
		return &githttp.BasicAuth{Username: user, Password: tok}, tok, nil
	case config.AuthSSHKey:
		if a.SSHKeyFile == "" {
			return nil, "", errors.New("auth method ssh-key needs sshKeyFile")
		}
		keys, err := gitssh.NewPublicKeysFromFile(sshUser(cfg), a.SSHKeyFile, "")
		if err != nil {
			return nil, "", fmt.Errorf("auth ssh key %s: %w", a.SSHKeyFile, err)
		}
		return keys, "", nil
	case config.AuthSSHAgent:
		agent, err := gitssh.NewSSHAgentAuth(sshUser(cfg))
		if err != nil {
			return nil, "", fmt.Errorf("auth ssh-agent (is SSH_AUTH_SOCK set?): %w", err)
		}
		return agent, "", nil
	}
	return nil, "", fmt.Errorf("unknown auth method %q (want none, ssh-agent, ssh-key or token)", a.Method)
}

// sshUser is the user named in the URL (git@host:path), else "git".
func sshUser(cfg config.Repository) string {
	if ep, err := transport.NewEndpoint(cfg.URL); err == nil && ep.User != "" {
		return ep.User
	}
	return defaultTokenUser
}

// userinfo matches the credentials part of a URL: scheme://user:pass@ or
// scheme://token@. SCP-like ssh addresses (git@host:path) have no scheme and
// carry no secret, so they are left alone.
var userinfo = regexp.MustCompile(`([a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]+@`)

// MaskCredentials replaces the credentials of every URL in s with *** and
// removes the given secrets wherever they appear.
func MaskCredentials(s string, secrets ...string) string {
	s = userinfo.ReplaceAllString(s, "${1}***@")
	for _, sec := range secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, "***")
		}
	}
	return s
}

// maskedError answers errors.Is for the error it masks while neither its text
// nor anything reachable by unwrapping carries credentials.
type maskedError struct {
	msg string
	err error
}

func (e *maskedError) Error() string        { return e.msg }
func (e *maskedError) Is(target error) bool { return errors.Is(e.err, target) }

func mask(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	return &maskedError{msg: MaskCredentials(err.Error(), secrets...), err: err}
}

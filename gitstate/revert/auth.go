package revert

import (
	"errors"
	"fmt"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"

	"github.com/fleetdeck/fleetdeck/config"
)

// pushAuth builds the credentials of a push from the repository's
// configuration, as the clone's fetches use them (ssh-agent, key file, token
// from an environment variable). It returns the secret read, so error texts
// can be scrubbed of it.
func pushAuth(cfg config.Repository, getenv func(string) string) (transport.AuthMethod, string, error) {
	a := cfg.Auth
	user := func() string {
		if ep, err := transport.NewEndpoint(cfg.URL); err == nil && ep.User != "" {
			return ep.User
		}
		return config.DefaultTokenUsername
	}
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
		u := a.Username
		if u == "" {
			u = config.DefaultTokenUsername
		}
		return &githttp.BasicAuth{Username: u, Password: tok}, tok, nil
	case config.AuthSSHKey:
		keys, err := gitssh.NewPublicKeysFromFile(user(), a.SSHKeyFile, "")
		if err != nil {
			return nil, "", fmt.Errorf("auth ssh key %s: %w", a.SSHKeyFile, err)
		}
		return keys, "", nil
	case config.AuthSSHAgent:
		agent, err := gitssh.NewSSHAgentAuth(user())
		if err != nil {
			return nil, "", fmt.Errorf("auth ssh-agent (is SSH_AUTH_SOCK set?): %w", err)
		}
		return agent, "", nil
	}
	return nil, "", fmt.Errorf("unknown auth method %q (want none, ssh-agent, ssh-key or token)", a.Method)
}

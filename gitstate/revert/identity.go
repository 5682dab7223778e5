package revert

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	gitconfig "github.com/go-git/go-git/v5/plumbing/format/config"
)

var osGetenv = os.Getenv

// Identity is who a revert commit is written as.
type Identity struct {
	Name  string
	Email string
}

func (i Identity) String() string {
	if i.Email == "" {
		return i.Name
	}
	return fmt.Sprintf("%s <%s>", i.Name, i.Email)
}

// DefaultIdentity finds the user as git does: GIT_AUTHOR_NAME and
// GIT_AUTHOR_EMAIL, else user.name and user.email of the global git config
// ($XDG_CONFIG_HOME/git/config, ~/.gitconfig), else $USER (or $LOGNAME) at
// the host name.
func DefaultIdentity(getenv func(string) string) (Identity, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	id := Identity{Name: getenv("GIT_AUTHOR_NAME"), Email: getenv("GIT_AUTHOR_EMAIL")}
	if id.Name == "" || id.Email == "" {
		name, email := globalUser(getenv)
		if id.Name == "" {
			id.Name = name
		}
		if id.Email == "" {
			id.Email = email
		}
	}
	user := getenv("USER")
	if user == "" {
		user = getenv("LOGNAME")
	}
	if id.Name == "" {
		id.Name = user
	}
	if id.Email == "" && user != "" {
		host, err := os.Hostname()
		if err != nil || host == "" {
			host = "localhost"
		}
		id.Email = user + "@" + host
	}
	if id.Name == "" {
		return Identity{}, errors.New("revert: who is reverting? set user.name and user.email in git config (git config --global user.name ...), or $USER")
	}
	return id, nil
}

// globalUser reads user.name and user.email from the global git config
// files; later files win, as in git.
func globalUser(getenv func(string) string) (name, email string) {
	var files []string
	xdg := getenv("XDG_CONFIG_HOME")
	home := getenv("HOME")
	if xdg != "" {
		files = append(files, filepath.Join(xdg, "git", "config"))
	} else if home != "" {
		files = append(files, filepath.Join(home, ".config", "git", "config"))
	}
	if home != "" {
		files = append(files, filepath.Join(home, ".gitconfig"))
	}
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			continue
		}
		cfg := gitconfig.New()
		err = gitconfig.NewDecoder(fh).Decode(cfg)
		fh.Close()
		if err != nil {
			continue
		}
		sec := cfg.Section("user")
		if v := strings.TrimSpace(sec.Option("name")); v != "" {
			name = v
		}
		if v := strings.TrimSpace(sec.Option("email")); v != "" {
			email = v
		}
	}
	return name, email
}

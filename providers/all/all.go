// Package all imports every provider type for the binary.
package all

import (
	_ "github.com/launchplane/launchplane/providers/caddy"
	_ "github.com/launchplane/launchplane/providers/compose"
	_ "github.com/launchplane/launchplane/providers/dokploy"
	_ "github.com/launchplane/launchplane/providers/fake"
	_ "github.com/launchplane/launchplane/providers/github"
	_ "github.com/launchplane/launchplane/providers/gitlab"
	_ "github.com/launchplane/launchplane/providers/npmplus"
)

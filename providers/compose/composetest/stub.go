package composetest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"github.com/compose-spec/compose-go/v2/dotenv"
	"gopkg.in/yaml.v3"
)

// DirEnv names the environment variable that holds the stub's directory.
const DirEnv = "COMPOSETEST_DIR"

// execEnv marks a test binary started by an installed stub script.
const execEnv = "COMPOSETEST_EXEC"

// ServerVersion is what the stub's engine reports.
const ServerVersion = "27.5.1"

// daemonDown is what docker prints when no engine answers.
const daemonDown = "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?"

// Files of the stub directory.
const (
	fileArgv     = "argv.log"
	fileEngine   = "engine-up"
	fileState    = "state.json"
	fileLock     = "state.lock"
	filePSArray  = "ps-array"
	fileHungFIFO = "hung"
)

// Project is a project the stub engine runs: what was last `up`-ed.
type Project struct {
	Name       string            `json:"name"`
	ConfigFile string            `json:"config_file"`
	Image      string            `json:"image"`
	Labels     map[string]string `json:"labels"` // the container's, compose's own included
	Networks   []string          `json:"networks,omitempty"`
	Env        []string          `json:"env,omitempty"` // KEY=value, from the env files, sorted
	Container  string            `json:"container"`
	// Health is the container's health status: "healthy", or
	// "unhealthy" after a failed up.
	Health      string `json:"health,omitempty"`
	ContainerID string `json:"container_id"`
	State       string `json:"state"`
	// Created counts how many times the container was (re)created.
	Created int `json:"created"`
}

// RunningJob is a one-off container `docker ps` lists as running.
type RunningJob struct {
	Project   string `json:"project"`
	Job       string `json:"job"`
	Container string `json:"container"`
}

// State is the stub engine's state file.
type State struct {
	Projects    map[string]*Project `json:"projects"`
	RunningJobs []RunningJob        `json:"running_jobs,omitempty"`
}

// MainIfStub runs the stub and exits when this process was started by a
// script that Install wrote; otherwise it returns at once. Call it first
// in TestMain.
func MainIfStub() {
	if os.Getenv(execEnv) == "1" {
		Main()
	}
}

// Main runs the stub docker with os.Args and exits. Register it as a
// testscript command named "docker" and set COMPOSETEST_DIR.
func Main() {
	os.Exit(Run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// Run is the stub docker: args without the program name. It returns the
// exit code.
func Run(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	dir := getenv(DirEnv)
	if dir == "" {
		fmt.Fprintf(stderr, "composetest: %s is not set\n", DirEnv)
		return 2
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fmt.Fprintf(stderr, "composetest: %v\n", err)
		return 2
	}
	s := &call{dir: dir, getenv: getenv, stdout: stdout, stderr: stderr}
	code, err := s.main(args)
	if err != nil {
		fmt.Fprintf(stderr, "composetest: %v\n", err)
		return 2
	}
	return code
}

type call struct {
	dir            string
	getenv         func(string) string
	stdout, stderr io.Writer
	lock           *os.File
}

func (s *call) path(name string) string { return filepath.Join(s.dir, name) }

func (s *call) main(args []string) (int, error) {
	lock, err := os.OpenFile(s.path(fileLock), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return 0, err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return 0, err
	}
	s.lock = lock
	defer s.unlock()

	if err := appendLine(s.path(fileArgv), "docker "+strings.Join(args, " ")); err != nil {
		return 0, err
	}
	op := opOf(args)
	if _, err := os.Stat(s.path("hang-" + op)); err == nil {
		return s.hang(op)
	}
	// A failed up has replaced the container first, as a real up --wait
	// whose new container never turns healthy does: see up.
	if op != "up" {
		if code, msg, ok := s.fault(op); ok {
			fmt.Fprintln(s.stderr, msg)
			return code, nil
		}
	}
	if !s.engineUp() {
		fmt.Fprintln(s.stderr, daemonDown)
		return 1, nil
	}
	if len(args) == 0 {
		fmt.Fprintln(s.stderr, "docker: no command")
		return 1, nil
	}
	switch args[0] {
	case "version":
		return s.version(args[1:])
	case "inspect":
		return s.inspect(args[1:])
	case "ps":
		return s.dockerPS(args[1:])
	case "compose":
		return s.compose(args[1:])
	}
	fmt.Fprintf(s.stderr, "docker: unknown command: docker %s\n", args[0])
	return 1, nil
}

func (s *call) unlock() {
	if s.lock != nil {
		_ = syscall.Flock(int(s.lock.Fd()), syscall.LOCK_UN)
		s.lock = nil
	}
}

// opOf names the operation of a call, as fault files name it: version,
// inspect, docker-ps, or the compose subcommand (up, ps, down, run…).
func opOf(args []string) string {
	if len(args) == 0 {
		return ""
	}
	switch args[0] {
	case "ps":
		return "docker-ps"
	case "compose":
		_, rest, _ := composeGlobals(args[1:])
		if len(rest) > 0 {
			return rest[0]
		}
		return "compose"
	}
	return args[0]
}

// fault consumes fail-<op>: its content is printed on stderr; a first
// line "exit N" sets the exit code (default 1).
func (s *call) fault(op string) (int, string, bool) {
	p := s.path("fail-" + op)
	raw, err := os.ReadFile(p)
	if err != nil || os.Remove(p) != nil {
		return 0, "", false
	}
	msg := strings.TrimRight(string(raw), "\n")
	code := 1
	if first, rest, _ := strings.Cut(msg, "\n"); strings.HasPrefix(first, "exit ") {
		if n, err := strconv.Atoi(strings.TrimPrefix(first, "exit ")); err == nil {
			code, msg = n, rest
		}
	}
	return code, msg, true
}

// hang consumes hang-<op>, tells the test through the hung FIFO, and
// waits to be terminated.
func (s *call) hang(op string) (int, error) {
	if err := os.Remove(s.path("hang-" + op)); err != nil {
		return 0, err
	}
	s.unlock()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
	f, err := os.OpenFile(s.path(fileHungFIFO), os.O_WRONLY, 0)
	if err != nil {
		return 0, err
	}
	_, err = f.Write([]byte(op + "\n"))
	f.Close()
	if err != nil {
		return 0, err
	}
	<-sig
	fmt.Fprintln(s.stderr, "terminated")
	return 143, nil
}

func (s *call) engineUp() bool {
	raw, err := os.ReadFile(s.path(fileEngine))
	if err != nil {
		return false
	}
	host := strings.TrimSpace(string(raw))
	return host == "" || host == s.getenv("DOCKER_HOST")
}

func (s *call) load() (*State, error) {
	st := &State{}
	raw, err := os.ReadFile(s.path(fileState))
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, err
	default:
		if err := json.Unmarshal(raw, st); err != nil {
			return nil, fmt.Errorf("%s: %w", fileState, err)
		}
	}
	if st.Projects == nil {
		st.Projects = map[string]*Project{}
	}
	return st, nil
}

func (s *call) save(st *State) error {
	raw, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	tmp := s.path(fileState + ".tmp")
	if err := os.WriteFile(tmp, append(raw, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, s.path(fileState))
}

// flags splits args into the flags named in withValue / bare and the
// rest, which starts at the first argument that is not a flag. An
// unknown flag is an error, as docker's own parser makes it.
func flags(args []string, withValue, bare []string) (map[string][]string, []string, error) {
	out := map[string][]string{}
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		a := args[0]
		name, val, hasVal := strings.Cut(a, "=")
		switch {
		case contains(bare, name) && !hasVal:
			out[name] = append(out[name], "")
			args = args[1:]
		case contains(withValue, name) && hasVal:
			out[name] = append(out[name], val)
			args = args[1:]
		case contains(withValue, name):
			if len(args) < 2 {
				return nil, nil, fmt.Errorf("flag needs an argument: %s", name)
			}
			out[name] = append(out[name], args[1])
			args = args[2:]
		default:
			return nil, nil, fmt.Errorf("unknown flag: %s", a)
		}
	}
	return out, args, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func first(m map[string][]string, names ...string) string {
	for _, n := range names {
		if v := m[n]; len(v) > 0 {
			return v[len(v)-1]
		}
	}
	return ""
}

func (s *call) usage(err error) (int, error) {
	fmt.Fprintln(s.stderr, err)
	return 1, nil
}

func (s *call) version(args []string) (int, error) {
	f, _, err := flags(args, []string{"--format", "-f"}, nil)
	if err != nil {
		return s.usage(err)
	}
	if first(f, "--format", "-f") != "" {
		fmt.Fprintln(s.stdout, ServerVersion)
		return 0, nil
	}
	fmt.Fprintf(s.stdout, "Server: Docker Engine - Community (composetest)\n Engine:\n  Version: %s\n", ServerVersion)
	return 0, nil
}

func composeGlobals(args []string) (map[string][]string, []string, error) {
	return flags(args, []string{"-p", "--project-name", "-f", "--file", "--project-directory", "--env-file", "--progress", "--ansi", "--profile"}, nil)
}

func (s *call) compose(args []string) (int, error) {
	g, rest, err := composeGlobals(args)
	if err != nil {
		return s.usage(err)
	}
	if len(rest) == 0 {
		return s.usage(errors.New("docker compose: no command"))
	}
	project := first(g, "-p", "--project-name")
	file := first(g, "-f", "--file")
	if project == "" {
		return s.usage(errors.New("no project name: the stub wants -p"))
	}
	switch rest[0] {
	case "up":
		return s.up(project, file, rest[1:])
	case "ps":
		return s.composePS(project, rest[1:])
	case "down":
		return s.down(project, rest[1:])
	case "run":
		return s.run(project, file, rest[1:])
	}
	return s.usage(fmt.Errorf("unknown docker command: \"compose %s\"", rest[0]))
}

// composeFile is the part of a compose file the stub reads.
type composeFile struct {
	Services map[string]struct {
		Image    string            `yaml:"image"`
		Labels   map[string]string `yaml:"labels"`
		EnvFile  any               `yaml:"env_file"`
		Networks any               `yaml:"networks"`
	} `yaml:"services"`
	Networks map[string]struct {
		Name     string `yaml:"name"`
		External bool   `yaml:"external"`
	} `yaml:"networks"`
}

// readCompose loads file and checks what docker compose would: the app
// service and its env files exist. It also refuses an environment that
// holds a key of an env file (except those in allowed): older Compose
// let the shell's value win over the file's, so a runner's own variable
// would silently replace the app's.
func (s *call) readCompose(file string, allowed map[string]bool) (*composeFile, error) {
	c, envFiles, err := readCompose(file)
	if err != nil {
		return nil, err
	}
	for _, ef := range envFiles {
		raw, err := os.ReadFile(ef)
		if err != nil {
			return nil, err
		}
		for _, line := range strings.Split(string(raw), "\n") {
			k, _, ok := strings.Cut(line, "=")
			if !ok || strings.HasPrefix(line, "#") || allowed[k] {
				continue
			}
			if _, set := s.lookupEnv(k); set {
				return nil, fmt.Errorf("composetest: the environment holds %s, a key of env file %s: older Compose would use the environment's value", k, ef)
			}
		}
	}
	return c, nil
}

func (s *call) lookupEnv(k string) (string, bool) {
	v := s.getenv(k)
	return v, v != ""
}

func readCompose(file string) (*composeFile, []string, error) {
	if file == "" {
		return nil, nil, errors.New("no configuration file provided: not found")
	}
	raw, err := os.ReadFile(file)
	if err != nil {
		return nil, nil, fmt.Errorf("open %s: no such file or directory", file)
	}
	var c composeFile
	if err := yaml.Unmarshal(raw, &c); err != nil {
		return nil, nil, fmt.Errorf("%s: %v", file, err)
	}
	var all []string
	for name, svc := range c.Services {
		var files []string
		switch v := svc.EnvFile.(type) {
		case string:
			files = []string{v}
		case []any:
			for _, x := range v {
				files = append(files, fmt.Sprint(x))
			}
		}
		for _, ef := range files {
			p := ef
			if !filepath.IsAbs(p) {
				p = filepath.Join(filepath.Dir(file), p)
			}
			if _, err := os.Stat(p); err != nil {
				return nil, nil, fmt.Errorf("service %q: env file %s not found", name, p)
			}
			all = append(all, p)
		}
	}
	return &c, all, nil
}

func unescape(s string) string { return strings.ReplaceAll(s, "$$", "$") }

func containerID(project string, n int) string {
	h := sha256.Sum256([]byte(fmt.Sprintf("%s/%d", project, n)))
	return hex.EncodeToString(h[:])
}

func (s *call) up(project, file string, args []string) (int, error) {
	_, rest, err := flags(args, []string{"--wait-timeout", "--pull", "-t", "--timeout"},
		[]string{"-d", "--detach", "--wait", "--remove-orphans", "--force-recreate", "--no-build", "--quiet-pull", "--no-recreate"})
	if err != nil {
		return s.usage(err)
	}
	if len(rest) > 0 {
		return s.usage(fmt.Errorf("the stub ups every service, not %v", rest))
	}
	want, err := s.desiredApp(project, file)
	if err != nil {
		return s.usage(err)
	}
	st, err := s.load()
	if err != nil {
		return 0, err
	}
	old := st.Projects[project]
	lines := upProgress(project, old, want)
	p := old
	if p == nil || !want.sameAs(p) {
		n := 1
		if old != nil {
			n = old.Created + 1
		}
		p = &Project{Name: project, Container: want.Container, ContainerID: containerID(project, n), Created: n}
	}
	p.ConfigFile, p.Image, p.Labels, p.Networks, p.Env, p.State, p.Health = file, want.Image, want.Labels, want.Networks, want.Env, "running", "healthy"
	code, msg, failed := s.fault("up")
	if failed {
		p.Health = "unhealthy"
	}
	st.Projects[project] = p
	if err := s.save(st); err != nil {
		return 0, err
	}
	if failed {
		lines[len(lines)-1] = " Container " + want.Container + "  Error"
	}
	for _, l := range lines {
		fmt.Fprintln(s.stderr, l)
	}
	if failed {
		fmt.Fprintln(s.stderr, msg)
		return code, nil
	}
	return 0, nil
}

// appSpec is the container a compose file asks for: what `up` compares
// with the running one to decide whether to recreate it.
type appSpec struct {
	Container string
	Image     string
	Labels    map[string]string
	Networks  []string
	Env       []string
}

// desiredApp reads the service "app" of file as docker compose would run
// it in project: labels with compose's own, networks by their names, the
// env files' variables.
func (s *call) desiredApp(project, file string) (appSpec, error) {
	c, err := s.readCompose(file, nil)
	if err != nil {
		return appSpec{}, err
	}
	_, envFiles, err := readCompose(file)
	if err != nil {
		return appSpec{}, err
	}
	// The env files are read by compose-go's parser, as docker compose
	// reads them.
	envMap, err := dotenv.GetEnvFromFile(map[string]string{}, envFiles)
	if err != nil {
		return appSpec{}, err
	}
	var env []string
	for k, v := range envMap {
		env = append(env, k+"="+v)
	}
	sort.Strings(env)
	svc, ok := c.Services["app"]
	if !ok {
		return appSpec{}, errors.New("the stub wants a service \"app\"")
	}
	labels := map[string]string{}
	for k, v := range svc.Labels {
		labels[k] = unescape(v)
	}
	labels["com.docker.compose.project"] = project
	labels["com.docker.compose.service"] = "app"
	labels["com.docker.compose.oneoff"] = "False"
	labels["com.docker.compose.container-number"] = "1"
	labels["com.docker.compose.project.config_files"] = file
	var networks []string
	for key, n := range c.Networks {
		name := n.Name
		if name == "" {
			name = project + "_" + key
		}
		networks = append(networks, name)
	}
	sort.Strings(networks)
	return appSpec{Container: project + "-app-1", Image: unescape(svc.Image), Labels: labels, Networks: networks, Env: env}, nil
}

// sameAs reports whether the running project p is what a asks for.
func (a appSpec) sameAs(p *Project) bool {
	return p.Image == a.Image && maps.Equal(p.Labels, a.Labels) && slices.Equal(p.Networks, a.Networks) && slices.Equal(p.Env, a.Env)
}

// upProgress is what docker compose prints on stderr while it brings old
// (nil: none) to want.
func upProgress(project string, old *Project, want appSpec) []string {
	ctr := want.Container
	var lines []string
	switch {
	case old == nil:
		if len(want.Networks) == 0 {
			lines = append(lines, fmt.Sprintf(" Network %s_default  Creating", project), fmt.Sprintf(" Network %s_default  Created", project))
		}
		lines = append(lines, " Container "+ctr+"  Creating", " Container "+ctr+"  Created", " Container "+ctr+"  Starting", " Container "+ctr+"  Started")
	case !want.sameAs(old):
		lines = append(lines, " Container "+ctr+"  Recreate", " Container "+ctr+"  Recreated", " Container "+ctr+"  Starting", " Container "+ctr+"  Started")
	default:
		lines = append(lines, " Container "+ctr+"  Running")
	}
	return append(lines, " Container "+ctr+"  Waiting", " Container "+ctr+"  Healthy")
}

func joinLabels(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + m[k]
	}
	return strings.Join(parts, ",")
}

func (s *call) composePS(project string, args []string) (int, error) {
	f, rest, err := flags(args, []string{"--format", "--status", "--filter"}, []string{"-a", "--all", "-q", "--quiet"})
	if err != nil {
		return s.usage(err)
	}
	if len(rest) > 0 && !(len(rest) == 1 && rest[0] == "app") {
		return s.usage(fmt.Errorf("no such service: %s", rest[0]))
	}
	if first(f, "--format") != "json" {
		return s.usage(errors.New("the stub answers ps --format json only"))
	}
	st, err := s.load()
	if err != nil {
		return 0, err
	}
	// Compose lists the project's one-off containers (compose run) too.
	var rows []map[string]any
	for _, j := range st.RunningJobs {
		if j.Project == project {
			rows = append(rows, map[string]any{"ID": containerID(j.Container, 0)[:12], "Name": j.Container, "Project": project,
				"Service": "app", "State": "running", "Labels": joinLabels(jobLabels(j))})
		}
	}
	if p := st.Projects[project]; p != nil {
		rows = append(rows, map[string]any{
			"ID": p.ContainerID[:12], "Name": p.Container, "Image": p.Image, "Command": `"/entrypoint"`,
			"Project": project, "Service": "app", "Created": 1767225600, "State": p.State, "Status": "Up 2 minutes",
			"Health": "", "ExitCode": 0, "Publishers": []any{}, "Labels": joinLabels(p.Labels),
			"LocalVolumes": "0", "Mounts": "", "Networks": strings.Join(p.Networks, ","), "RunningFor": "2 minutes ago", "Size": "0B",
		})
	}
	if _, err := os.Stat(s.path(filePSArray)); err == nil {
		if rows == nil {
			rows = []map[string]any{}
		}
		raw, err := json.Marshal(rows)
		if err != nil {
			return 0, err
		}
		fmt.Fprintln(s.stdout, string(raw))
		return 0, nil
	}
	for _, r := range rows {
		raw, err := json.Marshal(r)
		if err != nil {
			return 0, err
		}
		fmt.Fprintln(s.stdout, string(raw))
	}
	return 0, nil
}

func (s *call) inspect(args []string) (int, error) {
	_, ids, err := flags(args, []string{"--type", "--format", "-f"}, []string{"-s", "--size"})
	if err != nil {
		return s.usage(err)
	}
	st, err := s.load()
	if err != nil {
		return 0, err
	}
	var out []any
	code := 0
	for _, id := range ids {
		var found *Project
		for _, p := range st.Projects {
			if id == p.ContainerID || id == p.ContainerID[:12] || id == p.Container {
				found = p
			}
		}
		if found == nil {
			fmt.Fprintf(s.stderr, "Error: No such container: %s\n", id)
			code = 1
			continue
		}
		out = append(out, map[string]any{
			"Id": found.ContainerID, "Name": "/" + found.Container,
			"Image": "sha256:" + containerID(found.Image, 0),
			"State": map[string]any{"Status": found.State, "Running": found.State == "running",
				"Health": map[string]any{"Status": health(found)}},
			"Config": map[string]any{"Image": found.Image, "Labels": found.Labels, "Env": found.Env},
		})
	}
	if out == nil {
		out = []any{}
	}
	raw, err := json.MarshalIndent(out, "", "    ")
	if err != nil {
		return 0, err
	}
	fmt.Fprintln(s.stdout, string(raw))
	return code, nil
}

func health(p *Project) string {
	if p.Health == "" {
		return "healthy"
	}
	return p.Health
}

func (s *call) down(project string, args []string) (int, error) {
	_, rest, err := flags(args, []string{"--rmi", "-t", "--timeout"}, []string{"--remove-orphans", "-v", "--volumes"})
	if err != nil {
		return s.usage(err)
	}
	if len(rest) > 0 {
		return s.usage(fmt.Errorf("the stub downs every service, not %v", rest))
	}
	st, err := s.load()
	if err != nil {
		return 0, err
	}
	p := st.Projects[project]
	if p == nil {
		fmt.Fprintf(s.stderr, "Warning: No resource found to remove for project %q.\n", project)
		return 0, nil
	}
	delete(st.Projects, project)
	if err := s.save(st); err != nil {
		return 0, err
	}
	for _, l := range []string{" Container " + p.Container + "  Stopping", " Container " + p.Container + "  Stopped",
		" Container " + p.Container + "  Removing", " Container " + p.Container + "  Removed"} {
		fmt.Fprintln(s.stderr, l)
	}
	if len(p.Networks) == 0 {
		fmt.Fprintf(s.stderr, " Network %s_default  Removing\n Network %s_default  Removed\n", project, project)
	}
	return 0, nil
}

// run answers `compose run`: it prints the command and, for each -e, the
// value the job's container would get: from the command line for
// "-e KEY=VALUE", else from the stub's own environment.
func (s *call) run(project, file string, args []string) (int, error) {
	f, rest, err := flags(args, []string{"-e", "--env", "-l", "--label", "--name", "--entrypoint", "-u", "--user", "-w", "--workdir", "-v", "--volume"},
		[]string{"--rm", "-T", "--no-TTY", "--no-deps", "-d", "--detach", "--service-ports", "--quiet-pull"})
	if err != nil {
		return s.usage(err)
	}
	if len(rest) == 0 {
		return s.usage(errors.New("no service given"))
	}
	passed := map[string]bool{}
	for _, e := range append(f["-e"], f["--env"]...) {
		k, _, _ := strings.Cut(e, "=")
		passed[k] = true
	}
	c, err := s.readCompose(file, passed)
	if err != nil {
		return s.usage(err)
	}
	if _, ok := c.Services[rest[0]]; !ok {
		return s.usage(fmt.Errorf("no such service: %s", rest[0]))
	}
	fmt.Fprintf(s.stdout, "job %s in %s: %s\n", rest[0], project, strings.Join(rest[1:], " "))
	for _, e := range append(f["-e"], f["--env"]...) {
		if k, v, ok := strings.Cut(e, "="); ok {
			fmt.Fprintf(s.stdout, "%s=%s\n", k, v)
		} else if v := s.getenv(k); v != "" {
			fmt.Fprintf(s.stdout, "%s=%s\n", k, v)
		} else {
			fmt.Fprintf(s.stdout, "%s unset\n", k)
		}
	}
	return 0, nil
}

// dockerPS answers `docker ps --filter label=… --format json` from the
// running jobs of the state.
func (s *call) dockerPS(args []string) (int, error) {
	f, rest, err := flags(args, []string{"--filter", "-f", "--format"}, []string{"-a", "--all", "-q", "--quiet", "--no-trunc"})
	if err != nil {
		return s.usage(err)
	}
	if len(rest) > 0 {
		return s.usage(fmt.Errorf("docker ps accepts no arguments: %v", rest))
	}
	if first(f, "--format") != "json" {
		return s.usage(errors.New("the stub answers ps --format json only"))
	}
	st, err := s.load()
	if err != nil {
		return 0, err
	}
	for _, j := range st.RunningJobs {
		labels := jobLabels(j)
		match := true
		for _, flt := range append(f["--filter"], f["-f"]...) {
			kv, ok := strings.CutPrefix(flt, "label=")
			if !ok {
				return s.usage(fmt.Errorf("the stub filters on labels only: %s", flt))
			}
			k, v, hasV := strings.Cut(kv, "=")
			if got, ok := labels[k]; !ok || hasV && got != v {
				match = false
			}
		}
		if !match {
			continue
		}
		raw, err := json.Marshal(map[string]any{"ID": containerID(j.Container, 0)[:12], "Names": j.Container,
			"Image": "", "Labels": joinLabels(labels), "State": "running", "Status": "Up 5 seconds"})
		if err != nil {
			return 0, err
		}
		fmt.Fprintln(s.stdout, string(raw))
	}
	return 0, nil
}

func appendLine(path, line string) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(line + "\n"); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func jobLabels(j RunningJob) map[string]string {
	labels := map[string]string{"com.docker.compose.project": j.Project, "com.docker.compose.service": "app",
		"com.docker.compose.oneoff": "True"}
	if j.Job != "" {
		labels["launchplane.job"] = j.Job
	}
	return labels
}

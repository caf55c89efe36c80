package dokploytest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/launchplane/launchplane/providers/dokploy/internal/dotenv"
)

// apiError is a tRPC error answered as {message, code}.
type apiError struct {
	status  int
	message string
	issues  []string
}

func (e *apiError) Error() string { return e.message }

var codes = map[int]string{
	http.StatusBadRequest:          "BAD_REQUEST",
	http.StatusUnauthorized:        "UNAUTHORIZED",
	http.StatusForbidden:           "FORBIDDEN",
	http.StatusNotFound:            "NOT_FOUND",
	http.StatusMethodNotAllowed:    "METHOD_NOT_SUPPORTED",
	http.StatusConflict:            "CONFLICT",
	http.StatusTooManyRequests:     "TOO_MANY_REQUESTS",
	http.StatusInternalServerError: "INTERNAL_SERVER_ERROR",
}

func errf(status int, format string, args ...any) *apiError {
	return &apiError{status: status, message: fmt.Sprintf(format, args...)}
}

func notFound(what string) *apiError { return errf(http.StatusNotFound, "%s not found", what) }

// input is a decoded request: the JSON body of a mutation or the query of
// a query.
type input struct {
	body  map[string]any
	query url.Values
	bad   []string
}

func (in *input) has(k string) bool {
	if in.body != nil {
		_, ok := in.body[k]
		return ok
	}
	return in.query.Has(k)
}

// str is a required, non-null string.
func (in *input) str(k string) string {
	if in.body == nil {
		if !in.query.Has(k) {
			in.bad = append(in.bad, k+": Required")
		}
		return in.query.Get(k)
	}
	v, ok := in.body[k]
	if !ok {
		in.bad = append(in.bad, k+": Required")
		return ""
	}
	s, ok := v.(string)
	if !ok {
		in.bad = append(in.bad, k+": Expected string")
	}
	return s
}

// minStr is a required string of at least one character.
func (in *input) minStr(k string) string {
	s := in.str(k)
	if s == "" && in.has(k) {
		in.bad = append(in.bad, k+": String must contain at least 1 character(s)")
	}
	return s
}

// nullable is a key that must be present, as a string or null.
func (in *input) nullable(k string) *string {
	v, ok := in.body[k]
	if !ok {
		in.bad = append(in.bad, k+": Required")
		return nil
	}
	if v == nil {
		return nil
	}
	s, ok := v.(string)
	if !ok {
		in.bad = append(in.bad, k+": Expected string, received "+fmt.Sprintf("%T", v))
		return nil
	}
	return &s
}

// opt is an optional string ("" when absent or null).
func (in *input) opt(k string) string {
	if in.body == nil {
		return in.query.Get(k)
	}
	v, ok := in.body[k]
	if !ok || v == nil {
		return ""
	}
	s, ok := v.(string)
	if !ok {
		in.bad = append(in.bad, k+": Expected string")
	}
	return s
}

func (in *input) optBool(k string, def bool) bool {
	v, ok := in.body[k]
	if !ok || v == nil {
		return def
	}
	b, ok := v.(bool)
	if !ok {
		in.bad = append(in.bad, k+": Expected boolean")
	}
	return b
}

func (in *input) reqBool(k string) bool {
	if _, ok := in.body[k]; !ok {
		in.bad = append(in.bad, k+": Required")
		return false
	}
	return in.optBool(k, false)
}

func (in *input) optInt(k string, def int) int {
	if in.body == nil {
		if !in.query.Has(k) {
			return def
		}
		n, err := strconv.Atoi(in.query.Get(k))
		if err != nil {
			in.bad = append(in.bad, k+": Expected number")
		}
		return n
	}
	v, ok := in.body[k]
	if !ok || v == nil {
		return def
	}
	f, ok := v.(float64)
	if !ok || f != float64(int(f)) {
		in.bad = append(in.bad, k+": Expected integer")
	}
	return int(f)
}

func (in *input) enum(k, def string, allowed ...string) string {
	v := in.opt(k)
	if v == "" {
		return def
	}
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	in.bad = append(in.bad, fmt.Sprintf("%s: Invalid enum value. Expected %s, received '%s'", k, strings.Join(allowed, " | "), v))
	return v
}

func (in *input) err() *apiError {
	if len(in.bad) == 0 {
		return nil
	}
	return &apiError{status: http.StatusBadRequest, message: "Input validation failed", issues: in.bad}
}

type procedure struct {
	method string
	fn     func(s *Server, in *input) (any, *apiError)
}

// since is the first release of each procedure newer than v0.20: an older
// server has no such route, which @dokploy/trpc-openapi answers 404
// {"message":"Not found","code":"NOT_FOUND"} (its node-http core), as it
// does a wrong method.
var since = map[string]string{
	"environment.one":     "v0.25.0", // the environment router
	"deployment.readLogs": "v0.29.6",
}

// semver parses "v1.2.3" (a suffix like -canary is ignored).
func semver(v string) [3]int {
	var out [3]int
	v = strings.TrimPrefix(v, "v")
	if i := strings.IndexAny(v, "-+"); i >= 0 {
		v = v[:i]
	}
	for i, part := range strings.SplitN(v, ".", 3) {
		out[i], _ = strconv.Atoi(part)
	}
	return out
}

// older reports whether version a is older than b.
func older(a, b string) bool {
	x, y := semver(a), semver(b)
	for i := range x {
		if x[i] != y[i] {
			return x[i] < y[i]
		}
	}
	return false
}

// empty is a result answered with an empty body.
type empty struct{}

var procedures = map[string]procedure{
	"settings.getDokployVersion":     {http.MethodGet, (*Server).dokployVersion},
	"user.get":                       {http.MethodGet, (*Server).userGet},
	"backup.update":                  {http.MethodPost, (*Server).backupUpdate},
	"environment.one":                {http.MethodGet, (*Server).environmentOne},
	"application.one":                {http.MethodGet, onService("application", (*Server).serviceOne)},
	"application.create":             {http.MethodPost, createService("application")},
	"application.saveDockerProvider": {http.MethodPost, (*Server).saveDockerProvider},
	"application.saveEnvironment":    {http.MethodPost, (*Server).applicationSaveEnv},
	"application.deploy":             {http.MethodPost, onService("application", (*Server).applicationDeploy)},
	"application.delete":             {http.MethodPost, onService("application", (*Server).serviceDelete)},
	"compose.one":                    {http.MethodGet, onService("compose", (*Server).serviceOne)},
	"compose.create":                 {http.MethodPost, createService("compose")},
	"compose.update":                 {http.MethodPost, (*Server).composeUpdate},
	"compose.saveEnvironment":        {http.MethodPost, (*Server).composeSaveEnv},
	"compose.deploy":                 {http.MethodPost, onService("compose", (*Server).composeDeploy)},
	"compose.delete":                 {http.MethodPost, (*Server).composeDelete},
	"deployment.all":                 {http.MethodGet, byServiceID("application", (*Server).deploymentList)},
	"deployment.allByCompose":        {http.MethodGet, byServiceID("compose", (*Server).deploymentList)},
	"deployment.readLogs":            {http.MethodGet, (*Server).readLogs},
	"domain.create":                  {http.MethodPost, (*Server).domainCreate},
	"domain.update":                  {http.MethodPost, (*Server).domainUpdate},
	"domain.delete":                  {http.MethodPost, (*Server).domainDelete},
	"domain.byApplicationId":         {http.MethodGet, byServiceID("application", (*Server).domainsOf)},
	"domain.byComposeId":             {http.MethodGet, byServiceID("compose", (*Server).domainsOf)},
	"schedule.create":                {http.MethodPost, (*Server).scheduleCreate},
	"schedule.update":                {http.MethodPost, (*Server).scheduleUpdate},
	"schedule.delete":                {http.MethodPost, (*Server).scheduleDelete},
	"schedule.list":                  {http.MethodGet, (*Server).scheduleList},
	"schedule.runManually":           {http.MethodPost, (*Server).scheduleRun},
	"postgres.one":                   {http.MethodGet, dbOne("postgres")},
	"mysql.one":                      {http.MethodGet, dbOne("mysql")},
	"mariadb.one":                    {http.MethodGet, dbOne("mariadb")},
	"mongo.one":                      {http.MethodGet, dbOne("mongo")},
	"backup.create":                  {http.MethodPost, (*Server).backupCreate},
	"backup.one":                     {http.MethodGet, (*Server).backupOne},
	"backup.listBackupFiles":         {http.MethodGet, (*Server).listBackupFiles},
	"backup.manualBackupPostgres":    {http.MethodPost, manualBackup("postgres")},
	"backup.manualBackupMySql":       {http.MethodPost, manualBackup("mysql")},
	"backup.manualBackupMariadb":     {http.MethodPost, manualBackup("mariadb")},
	"backup.manualBackupMongo":       {http.MethodPost, manualBackup("mongo")},
	"backup.manualBackupCompose":     {http.MethodPost, manualBackup("compose")},
}

func (s *Server) handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, ok := strings.CutPrefix(r.URL.Path, "/api/")
		s.mu.Lock()
		s.calls = append(s.calls, r.Method+" "+name)
		key := s.apiKey
		s.mu.Unlock()
		if r.Header.Get("x-api-key") != key || key == "" {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "Unauthorized"})
			return
		}
		p, known := procedures[name]
		s.mu.Lock()
		if v, ok := since[name]; ok && older(s.version, v) {
			known = false
		}
		s.mu.Unlock()
		if !ok || !known || r.Method != p.method {
			// @dokploy/trpc-openapi matches method and path together: an
			// unknown procedure and a wrong method are both 404 Not found.
			writeError(w, errf(http.StatusNotFound, "Not found"))
			return
		}
		in := &input{query: r.URL.Query()}
		if r.Method == http.MethodPost {
			if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				writeError(w, errf(http.StatusBadRequest, "Invalid content type"))
				return
			}
			in.body = map[string]any{}
			if err := json.NewDecoder(r.Body).Decode(&in.body); err != nil || in.body == nil {
				writeError(w, errf(http.StatusBadRequest, "Failed to parse request body"))
				return
			}
		}
		s.mu.Lock()
		if fs := s.httpFaults[name]; len(fs) > 0 {
			f := fs[0]
			s.httpFaults[name] = fs[1:]
			if f.status != 0 { // a zero fault lets the call pass (FailNextAfter)
				s.mu.Unlock()
				writeError(w, &apiError{status: f.status, message: f.message})
				return
			}
		}
		out, aerr := p.fn(s, in)
		s.mu.Unlock()
		if aerr != nil {
			writeError(w, aerr)
			return
		}
		if _, ok := out.(empty); ok {
			w.WriteHeader(http.StatusOK)
		} else {
			writeJSON(w, http.StatusOK, out)
		}
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, e *apiError) {
	body := map[string]any{"message": e.message, "code": codes[e.status]}
	if body["code"] == "" {
		body["code"] = "INTERNAL_SERVER_ERROR"
	}
	if len(e.issues) > 0 {
		var issues []map[string]string
		for _, i := range e.issues {
			issues = append(issues, map[string]string{"message": i})
		}
		body["issues"] = issues
	}
	writeJSON(w, e.status, body)
}

func ts(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func nullStr(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// ----- environments and services

func (s *Server) environmentOne(in *input) (any, *apiError) {
	id := in.minStr("environmentId")
	if err := in.err(); err != nil {
		return nil, err
	}
	name, ok := s.environments[id]
	if !ok {
		return nil, notFound("Environment")
	}
	apps := []map[string]any{}
	composes := []map[string]any{}
	for _, svc := range s.sortedServices() {
		if svc.EnvironmentID != id || (!s.admin() && !s.accessed[svc.ID]) {
			continue // a member sees only its services (filterEnvironmentServices)
		}
		row := map[string]any{"name": svc.Name, "createdAt": ts(svc.CreatedAt), "description": nullStr(svc.Description), "serverId": nullStr(svc.ServerID)}
		if svc.Kind == "application" {
			row["applicationId"] = svc.ID
			row["applicationStatus"] = svc.Status
			apps = append(apps, row)
		} else {
			row["composeId"] = svc.ID
			row["composeStatus"] = svc.Status
			composes = append(composes, row)
		}
	}
	pgs := []map[string]any{}
	for _, db := range s.databases {
		if db.EnvironmentID == id && db.Type == "postgres" {
			pgs = append(pgs, map[string]any{"postgresId": db.ID, "name": db.Name, "applicationStatus": "done"})
		}
	}
	return map[string]any{
		"environmentId": id, "name": name, "description": nil, "isDefault": false, "projectId": ProjectID, "env": "",
		"applications": apps, "compose": composes, "postgres": pgs,
		"mariadb": []any{}, "mongo": []any{}, "mysql": []any{}, "redis": []any{}, "libsql": []any{},
		"project": map[string]any{"projectId": ProjectID, "name": "launchplane-test"},
	}, nil
}

func (s *Server) sortedServices() []*Service {
	out := make([]*Service, 0, len(s.services))
	for _, svc := range s.services {
		out = append(out, svc)
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].CreatedAt.Before(out[j-1].CreatedAt); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

func (s *Server) service(kind, id string) (*Service, *apiError) {
	svc := s.services[id]
	if svc == nil || svc.Kind != kind {
		if kind == "application" {
			return nil, notFound("Application")
		}
		return nil, notFound("Compose")
	}
	if !s.admin() && !s.accessed[id] {
		// checkServicePermissionAndAccess, packages/server/src/services/permission.ts
		return nil, errf(http.StatusUnauthorized, "You don't have access to this service")
	}
	return svc, nil
}

// validService validates in (every field read so far), then finds the
// service of kind with id.
func (s *Server) validService(in *input, kind, id string) (*Service, *apiError) {
	if err := in.err(); err != nil {
		return nil, err
	}
	return s.service(kind, id)
}

// byServiceID serves a procedure of a service kind whose only input is
// the service's id (applicationId, composeId).
func byServiceID(kind string, fn func(s *Server, kind, id string) (any, *apiError)) func(*Server, *input) (any, *apiError) {
	return func(s *Server, in *input) (any, *apiError) {
		id := in.minStr(kind + "Id")
		if err := in.err(); err != nil {
			return nil, err
		}
		return fn(s, kind, id)
	}
}

// onService serves a procedure on one existing service of kind, named by
// its id (applicationId, composeId).
func onService(kind string, fn func(s *Server, svc *Service, in *input) (any, *apiError)) func(*Server, *input) (any, *apiError) {
	return func(s *Server, in *input) (any, *apiError) {
		svc, err := s.validService(in, kind, in.minStr(kind+"Id"))
		if err != nil {
			return nil, err
		}
		return fn(s, svc, in)
	}
}

// createService serves application.create and compose.create.
func createService(kind string) func(*Server, *input) (any, *apiError) {
	return func(s *Server, in *input) (any, *apiError) {
		svc, err := s.create(kind, in)
		if err != nil {
			return nil, err
		}
		return s.serviceRow(svc), nil
	}
}

// deref is a nullable string's value, "" for null.
func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// dokployVersion follows getDokployVersion in
// apps/dokploy/server/api/routers/settings.ts: the package version.
func (s *Server) dokployVersion(in *input) (any, *apiError) {
	return s.version, nil
}

// userGet follows get in apps/dokploy/server/api/routers/user.ts: the
// member row of the key's user in its organization, with its role.
func (s *Server) userGet(in *input) (any, *apiError) {
	accessed := []string{}
	for id := range s.accessed {
		accessed = append(accessed, id)
	}
	return map[string]any{"id": "member-test", "organizationId": "org-test", "userId": "user-test", "role": s.role,
		"accessedProjects": []string{}, "accessedEnvironments": []string{EnvironmentID}, "accessedServices": accessed,
		"user": map[string]any{"id": "user-test", "email": "ci@example.com"}}, nil
}

var appNameRE = regexp.MustCompile(`^[a-zA-Z0-9._-]+$`)

func (s *Server) create(kind string, in *input) (*Service, *apiError) {
	name := in.minStr("name")
	envID := in.minStr("environmentId")
	appName := in.opt("appName")
	if appName != "" && (len(appName) > 63 || !appNameRE.MatchString(appName)) {
		in.bad = append(in.bad, "appName: App name can only contain letters, numbers, dots, underscores and hyphens, at most 63 characters")
	}
	if kind == "compose" {
		in.enum("composeType", "docker-compose", "docker-compose", "stack")
	}
	if err := in.err(); err != nil {
		return nil, err
	}
	if _, ok := s.environments[envID]; !ok {
		return nil, notFound("Environment")
	}
	// buildAppName (packages/server/src/db/schema/utils.ts): the cleaned
	// appName plus "-" and 6 random characters.
	svc := s.addService(kind, envID, name, strings.ToLower(strings.ReplaceAll(strings.TrimSpace(appName), " ", "-")), in.opt("serverId"))
	svc.Description = in.opt("description")
	if kind == "compose" {
		svc.ComposeType = in.enum("composeType", "docker-compose", "docker-compose", "stack")
		svc.ComposeFile = in.opt("composeFile")
		if in.has("sourceType") { // apiCreateCompose picks sourceType
			svc.SourceType = in.enum("sourceType", "github", "git", "github", "gitlab", "bitbucket", "gitea", "raw")
		}
	}
	s.accessed[svc.ID] = true // addNewService: the creator gets access
	return svc, nil
}

func (s *Server) serviceRow(svc *Service) map[string]any {
	row := map[string]any{
		"name": svc.Name, "appName": svc.AppName, "description": nullStr(svc.Description),
		"env": nullStr(svc.Env), "environmentId": svc.EnvironmentID, "serverId": nullStr(svc.ServerID),
		"createdAt": ts(svc.CreatedAt), "sourceType": svc.SourceType,
	}
	var domains []map[string]any
	for _, d := range s.domains {
		if d.ServiceID == svc.ID {
			domains = append(domains, domainRow(d))
		}
	}
	if domains == nil {
		domains = []map[string]any{}
	}
	row["domains"] = domains
	deps := []map[string]any{}
	for _, d := range s.deployments { // unordered, as Dokploy's relation
		if d.ServiceID == svc.ID {
			deps = append(deps, deploymentRow(d))
		}
	}
	row["deployments"] = deps
	row["environment"] = map[string]any{"environmentId": svc.EnvironmentID, "name": s.environments[svc.EnvironmentID], "projectId": ProjectID,
		"project": map[string]any{"projectId": ProjectID, "name": "launchplane-test"}}
	if svc.Kind == "application" {
		row["applicationId"] = svc.ID
		row["applicationStatus"] = svc.Status
		row["dockerImage"] = nullStr(svc.DockerImage)
		row["username"] = nullStr(svc.RegistryUsername)
		row["password"] = nullStr(svc.registryPassword)
		row["registryUrl"] = nullStr(svc.RegistryURL)
		row["buildArgs"] = nullStr(svc.BuildArgs)
		row["buildSecrets"] = nullStr(svc.BuildSecrets)
		row["createEnvFile"] = svc.CreateEnvFile
	} else {
		row["composeId"] = svc.ID
		row["composeStatus"] = svc.Status
		row["composeFile"] = svc.ComposeFile
		row["composeType"] = svc.ComposeType
		backups := []map[string]any{}
		for _, b := range s.backups {
			if b.ComposeID == svc.ID {
				backups = append(backups, backupRow(b))
			}
		}
		row["backups"] = backups
	}
	return row
}

// serviceOne serves application.one and compose.one.
func (s *Server) serviceOne(svc *Service, _ *input) (any, *apiError) {
	return s.serviceRow(svc), nil
}

func (s *Server) saveDockerProvider(in *input) (any, *apiError) {
	id := in.minStr("applicationId")
	image := in.nullable("dockerImage")
	user := in.nullable("username")
	pass := in.nullable("password")
	reg := in.nullable("registryUrl")
	svc, err := s.validService(in, "application", id)
	if err != nil {
		return nil, err
	}
	svc.DockerImage, svc.RegistryUsername, svc.registryPassword, svc.RegistryURL = deref(image), deref(user), deref(pass), deref(reg)
	svc.SourceType = "docker"
	svc.Status = "idle"
	return true, nil
}

// saveEnv stores env on svc, applying a pending DropNextEnvKey fault.
func (s *Server) saveEnv(svc *Service, env string) {
	for i, f := range s.envDrops {
		if f.service == "" || f.service == svc.Name {
			s.envDrops = append(s.envDrops[:i:i], s.envDrops[i+1:]...)
			m := dotenv.Parse(env)
			delete(m, f.log)
			if text, err := dotenv.Encode(m); err == nil {
				env = text
			}
			break
		}
	}
	svc.Env = env
}

func (s *Server) applicationSaveEnv(in *input) (any, *apiError) {
	id := in.minStr("applicationId")
	env := in.nullable("env")
	args := in.nullable("buildArgs")
	secrets := in.nullable("buildSecrets")
	createEnvFile := in.reqBool("createEnvFile")
	svc, err := s.validService(in, "application", id)
	if err != nil {
		return nil, err
	}
	s.saveEnv(svc, deref(env))
	// saveEnvironment in apps/dokploy/server/api/routers/application.ts
	// writes all four fields: null clears the build args and secrets.
	svc.BuildArgs, svc.BuildSecrets, svc.CreateEnvFile = "", "", createEnvFile
	if args != nil {
		svc.BuildArgs = *args
	}
	if secrets != nil {
		svc.BuildSecrets = *secrets
	}
	return true, nil
}

func (s *Server) enqueue(svc *Service, in *input) {
	s.queue = append(s.queue, &deployJob{serviceID: svc.ID, title: in.opt("title"), description: in.opt("description")})
}

func (s *Server) applicationDeploy(svc *Service, in *input) (any, *apiError) {
	s.enqueue(svc, in)
	return empty{}, nil
}

func (s *Server) remove(svc *Service) map[string]any {
	row := s.serviceRow(svc)
	delete(s.services, svc.ID)
	for id, d := range s.domains {
		if d.ServiceID == svc.ID {
			delete(s.domains, id)
		}
	}
	for id, sc := range s.schedules {
		if sc.ServiceID == svc.ID {
			delete(s.schedules, id)
		}
	}
	kept := s.deployments[:0]
	for _, d := range s.deployments {
		if d.ServiceID != svc.ID {
			kept = append(kept, d)
		}
	}
	s.deployments = kept
	return row
}

// serviceDelete serves application.delete (and compose.delete, once its
// input is checked).
func (s *Server) serviceDelete(svc *Service, _ *input) (any, *apiError) {
	return s.remove(svc), nil
}

func (s *Server) composeUpdate(in *input) (any, *apiError) {
	id := in.minStr("composeId")
	if in.has("sourceType") {
		in.enum("sourceType", "", "git", "github", "gitlab", "bitbucket", "gitea", "raw")
	}
	svc, err := s.validService(in, "compose", id)
	if err != nil {
		return nil, err
	}
	if in.has("composeFile") {
		svc.ComposeFile = in.opt("composeFile")
	}
	if in.has("sourceType") {
		svc.SourceType = in.opt("sourceType")
	}
	if in.has("env") {
		s.saveEnv(svc, in.opt("env"))
	}
	if in.has("name") {
		svc.Name = in.opt("name")
	}
	return s.serviceRow(svc), nil
}

func (s *Server) composeSaveEnv(in *input) (any, *apiError) {
	id := in.minStr("composeId")
	env := in.nullable("env")
	svc, err := s.validService(in, "compose", id)
	if err != nil {
		return nil, err
	}
	s.saveEnv(svc, deref(env))
	return true, nil
}

func (s *Server) composeDeploy(svc *Service, in *input) (any, *apiError) {
	s.enqueue(svc, in)
	return map[string]any{"success": true, "message": "Deployment queued", "composeId": svc.ID}, nil
}

func (s *Server) composeDelete(in *input) (any, *apiError) {
	id := in.minStr("composeId")
	in.reqBool("deleteVolumes")
	svc, err := s.validService(in, "compose", id)
	if err != nil {
		return nil, err
	}
	return s.serviceDelete(svc, in)
}

// ----- deployments

func deploymentRow(d *Deployment) map[string]any {
	row := map[string]any{
		"deploymentId": d.ID, "title": d.Title, "description": nullStr(d.Description), "status": d.Status,
		"logPath": "/etc/dokploy/logs/" + d.ID + ".log", "pid": nil,
		"applicationId": nil, "composeId": nil, "scheduleId": nullStr(d.ScheduleID), "backupId": nullStr(d.BackupID),
		"rollbackId": nil, "createdAt": ts(d.CreatedAt), "startedAt": ts(d.CreatedAt), "finishedAt": nil,
		"errorMessage": nullStr(d.ErrorMessage),
	}
	if d.Status == "" {
		row["status"] = nil
	}
	if strings.HasPrefix(d.ServiceID, "compose-") {
		row["composeId"] = d.ServiceID
	} else if d.ServiceID != "" {
		row["applicationId"] = d.ServiceID
	}
	if d.Status != "running" && d.Status != "" {
		row["finishedAt"] = ts(d.CreatedAt)
	}
	return row
}

func (s *Server) deploymentList(kind, id string) (any, *apiError) {
	svc, err := s.service(kind, id)
	if err != nil {
		return nil, err
	}
	s.advance(svc.ID, false) // the queue moves while clients wait
	rows := []map[string]any{}
	for _, d := range s.deploymentsOf(func(d *Deployment) bool { return d.ServiceID == svc.ID }) {
		rows = append(rows, deploymentRow(d))
	}
	s.polled(svc)
	return rows, nil
}

func (s *Server) readLogs(in *input) (any, *apiError) {
	id := in.minStr("deploymentId")
	tail := in.optInt("tail", 100)
	if tail < 1 || tail > 10000 {
		in.bad = append(in.bad, "tail: Number must be between 1 and 10000")
	}
	if err := in.err(); err != nil {
		return nil, err
	}
	for _, d := range s.deployments {
		if d.ID == id {
			lines := d.Log
			if len(lines) > tail {
				lines = lines[len(lines)-tail:]
			}
			if len(lines) == 0 {
				return "", nil
			}
			return strings.Join(lines, "\n") + "\n", nil
		}
	}
	return nil, notFound("Deployment")
}

// ----- domains

func domainRow(d *Domain) map[string]any {
	row := map[string]any{
		"domainId": d.ID, "host": d.Host, "path": d.Path, "port": d.Port, "https": d.HTTPS,
		"certificateType": d.CertificateType, "serviceName": nullStr(d.ServiceName), "domainType": d.DomainType,
		"applicationId": nil, "composeId": nil, "customCertResolver": nil, "internalPath": "/", "stripPath": false,
	}
	if strings.HasPrefix(d.ServiceID, "compose-") {
		row["composeId"] = d.ServiceID
	} else {
		row["applicationId"] = d.ServiceID
	}
	return row
}

func (s *Server) domainFields(d *Domain, in *input) {
	if in.has("path") {
		d.Path = in.opt("path")
	}
	if in.has("port") {
		d.Port = in.optInt("port", 3000)
	}
	if in.has("https") {
		d.HTTPS = in.optBool("https", false)
	}
	if in.has("certificateType") {
		d.CertificateType = in.enum("certificateType", "none", "letsencrypt", "none", "custom")
	}
	if in.has("serviceName") {
		d.ServiceName = in.opt("serviceName")
	}
	if in.has("domainType") {
		d.DomainType = in.enum("domainType", "application", "application", "compose", "preview")
	}
}

func (s *Server) domainCreate(in *input) (any, *apiError) {
	d := &Domain{Host: in.minStr("host"), Path: "/", Port: 3000, CertificateType: "none", DomainType: "application"}
	s.domainFields(d, in)
	appID, composeID := in.opt("applicationId"), in.opt("composeId")
	if err := in.err(); err != nil {
		return nil, err
	}
	switch {
	case appID != "":
		if _, err := s.service("application", appID); err != nil {
			return nil, err
		}
		d.ServiceID = appID
	case composeID != "":
		if _, err := s.service("compose", composeID); err != nil {
			return nil, err
		}
		if d.ServiceName == "" {
			return nil, errf(http.StatusBadRequest, "Service name is required for compose domains")
		}
		d.ServiceID = composeID
	}
	d.ID = s.nextID("domain")
	s.domains[d.ID] = d
	return domainRow(d), nil
}

func (s *Server) domainUpdate(in *input) (any, *apiError) {
	id := in.minStr("domainId")
	host := in.minStr("host")
	if in.has("applicationId") || in.has("composeId") {
		in.bad = append(in.bad, "Unrecognized key(s) in object: 'applicationId'/'composeId'")
	}
	if err := in.err(); err != nil {
		return nil, err
	}
	d := s.domains[id]
	if d == nil {
		return nil, notFound("Domain")
	}
	next := *d
	next.Host = host
	s.domainFields(&next, in)
	if err := in.err(); err != nil {
		return nil, err
	}
	*d = next
	return domainRow(d), nil
}

func (s *Server) domainDelete(in *input) (any, *apiError) {
	id := in.minStr("domainId")
	if err := in.err(); err != nil {
		return nil, err
	}
	d := s.domains[id]
	if d == nil {
		return nil, notFound("Domain")
	}
	delete(s.domains, id)
	return domainRow(d), nil
}

func (s *Server) domainsOf(kind, id string) (any, *apiError) {
	if _, err := s.service(kind, id); err != nil {
		return nil, err
	}
	rows := []map[string]any{}
	for _, d := range s.sortedDomains() {
		if d.ServiceID == id {
			rows = append(rows, domainRow(d))
		}
	}
	return rows, nil
}

func (s *Server) sortedDomains() []*Domain {
	out := make([]*Domain, 0, len(s.domains))
	for _, d := range s.domains {
		out = append(out, d)
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].ID < out[j-1].ID; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// ----- schedules

func (s *Server) scheduleRow(sc *Schedule) map[string]any {
	row := map[string]any{
		"scheduleId": sc.ID, "name": sc.Name, "cronExpression": sc.CronExpression, "command": sc.Command,
		"shellType": sc.ShellType, "scheduleType": sc.ScheduleType, "serviceName": nullStr(sc.ServiceName),
		"enabled": sc.Enabled, "applicationId": nil, "composeId": nil, "timezone": nil, "script": nil,
	}
	if sc.ScheduleType == "compose" {
		row["composeId"] = sc.ServiceID
	} else {
		row["applicationId"] = sc.ServiceID
	}
	deps := []map[string]any{}
	for _, d := range s.deploymentsOf(func(d *Deployment) bool { return d.ScheduleID == sc.ID }) {
		deps = append(deps, deploymentRow(d))
	}
	row["deployments"] = deps
	return row
}

func (s *Server) scheduleFields(sc *Schedule, in *input) {
	if in.has("name") {
		sc.Name = in.minStr("name")
	}
	if in.has("cronExpression") {
		sc.CronExpression = in.minStr("cronExpression")
	}
	if in.has("command") {
		sc.Command = in.str("command")
	}
	if in.has("shellType") {
		sc.ShellType = in.enum("shellType", "bash", "bash", "sh")
	}
	if in.has("serviceName") {
		sc.ServiceName = in.opt("serviceName")
	}
	if in.has("enabled") {
		sc.Enabled = in.optBool("enabled", true)
	}
}

func (s *Server) scheduleService(sc *Schedule, in *input) *apiError {
	sc.ScheduleType = in.enum("scheduleType", "application", "application", "compose", "server", "dokploy-server")
	if err := in.err(); err != nil {
		return err
	}
	switch sc.ScheduleType {
	case "application":
		id := in.opt("applicationId")
		if _, err := s.service("application", id); err != nil {
			return err
		}
		sc.ServiceID = id
	case "compose":
		id := in.opt("composeId")
		if _, err := s.service("compose", id); err != nil {
			return err
		}
		sc.ServiceID = id
	default:
		return errf(http.StatusBadRequest, "schedule type %s is not supported by this stand-in", sc.ScheduleType)
	}
	return nil
}

func (s *Server) scheduleCreate(in *input) (any, *apiError) {
	for _, k := range []string{"name", "cronExpression", "command"} {
		in.str(k)
	}
	if err := in.err(); err != nil {
		return nil, err
	}
	sc := &Schedule{ShellType: "bash", Enabled: true}
	s.scheduleFields(sc, in)
	if err := s.scheduleService(sc, in); err != nil {
		return nil, err
	}
	sc.ID = s.nextID("schedule")
	s.schedules[sc.ID] = sc
	return s.scheduleRow(sc), nil
}

func (s *Server) scheduleUpdate(in *input) (any, *apiError) {
	id := in.minStr("scheduleId")
	if err := in.err(); err != nil {
		return nil, err
	}
	sc := s.schedules[id]
	if sc == nil {
		return nil, notFound("Schedule")
	}
	next := *sc
	s.scheduleFields(&next, in)
	if in.has("scheduleType") {
		if err := s.scheduleService(&next, in); err != nil {
			return nil, err
		}
	}
	if err := in.err(); err != nil {
		return nil, err
	}
	*sc = next
	return s.scheduleRow(sc), nil
}

func (s *Server) scheduleDelete(in *input) (any, *apiError) {
	id := in.minStr("scheduleId")
	if err := in.err(); err != nil {
		return nil, err
	}
	if s.schedules[id] == nil {
		return nil, notFound("Schedule")
	}
	delete(s.schedules, id)
	return true, nil
}

func (s *Server) scheduleList(in *input) (any, *apiError) {
	id := in.str("id")
	typ := in.enum("scheduleType", "", "application", "compose", "server", "dokploy-server")
	in.str("scheduleType")
	if err := in.err(); err != nil {
		return nil, err
	}
	var scs []*Schedule
	for _, sc := range s.schedules {
		if sc.ServiceID == id && sc.ScheduleType == typ {
			scs = append(scs, sc)
		}
	}
	for i := 1; i < len(scs); i++ {
		for j := i; j > 0 && scs[j].ID < scs[j-1].ID; j-- {
			scs[j], scs[j-1] = scs[j-1], scs[j]
		}
	}
	rows := []map[string]any{}
	for _, sc := range scs {
		rows = append(rows, s.scheduleRow(sc))
	}
	return rows, nil
}

// scheduleRun runs the command in the service's container: it is there
// once the service has a finished deploy.
func (s *Server) scheduleRun(in *input) (any, *apiError) {
	id := in.minStr("scheduleId")
	if err := in.err(); err != nil {
		return nil, err
	}
	sc := s.schedules[id]
	if sc == nil {
		return nil, notFound("Schedule")
	}
	svc := s.services[sc.ServiceID]
	d := &Deployment{ID: s.nextID("deployment"), Title: sc.Name, Description: "Schedule run", ScheduleID: sc.ID, CreatedAt: s.now()}
	s.deployments = append(s.deployments, d)
	d.Log = append(d.Log, fmt.Sprintf("docker exec <container> %s -c %s", sc.ShellType, sc.Command))
	d.Status = "done"
	if svc == nil || svc.Status != "done" {
		d.Status = "error"
		d.ErrorMessage = "Container not found"
		d.Log = append(d.Log, "Container not found")
	} else {
		for i, f := range s.runFaults {
			if f.service == "" || f.service == svc.Name {
				s.runFaults = append(s.runFaults[:i:i], s.runFaults[i+1:]...)
				d.Status = "error"
				d.Log = append(d.Log, f.log)
				break
			}
		}
	}
	if d.Status == "done" {
		d.Log = append(d.Log, "ok")
	}
	if older(s.version, "v0.29.14") {
		return true, nil // runManually answered true before v0.29.14
	}
	return map[string]any{"status": d.Status, "deploymentId": d.ID, "logPath": "/etc/dokploy/logs/" + d.ID + ".log"}, nil
}

// ----- databases and backups

func backupRow(b *BackupConfig) map[string]any {
	row := map[string]any{
		"backupId": b.ID, "schedule": b.Schedule, "prefix": b.Prefix, "destinationId": b.DestinationID,
		"database": b.Database, "databaseType": b.DatabaseType, "backupType": b.BackupType, "enabled": b.Enabled,
		"serviceName": nullStr(b.ServiceName), "composeId": nullStr(b.ComposeID), "keepLatestCount": nil,
		"postgresId": nil, "mysqlId": nil, "mariadbId": nil, "mongoId": nil, "libsqlId": nil, "metadata": nil,
	}
	if b.Metadata != nil {
		row["metadata"] = b.Metadata
	}
	if b.KeepLatestCount > 0 {
		row["keepLatestCount"] = b.KeepLatestCount
	}
	if b.BackupType == "database" {
		row[b.DatabaseType+"Id"] = b.DatabaseID
	}
	return row
}

func dbOne(dbType string) func(*Server, *input) (any, *apiError) {
	return func(s *Server, in *input) (any, *apiError) {
		id := in.minStr(dbType + "Id")
		if err := in.err(); err != nil {
			return nil, err
		}
		db := s.databases[id]
		if db == nil || db.Type != dbType {
			return nil, notFound(strings.ToUpper(dbType[:1]) + dbType[1:])
		}
		backups := []map[string]any{}
		for _, b := range s.backups {
			if b.BackupType == "database" && b.DatabaseID == id {
				backups = append(backups, backupRow(b))
			}
		}
		return map[string]any{
			dbType + "Id": db.ID, "name": db.Name, "appName": db.AppName, "environmentId": db.EnvironmentID,
			"applicationStatus": "done", "backups": backups,
		}, nil
	}
}

func (s *Server) backupCreate(in *input) (any, *apiError) {
	b := &BackupConfig{
		Schedule:      in.minStr("schedule"),
		Prefix:        in.minStr("prefix"),
		DestinationID: in.minStr("destinationId"),
		Database:      in.minStr("database"),
		DatabaseType:  in.enum("databaseType", "", "postgres", "mariadb", "mysql", "mongo", "web-server", "libsql"),
		BackupType:    in.enum("backupType", "database", "database", "compose"),
		Enabled:       in.optBool("enabled", true),
		ServiceName:   in.opt("serviceName"),
	}
	in.str("databaseType")
	b.KeepLatestCount = in.optInt("keepLatestCount", 0)
	b.Metadata = in.object("metadata")
	if err := in.err(); err != nil {
		return nil, err
	}
	if _, ok := s.destinations[b.DestinationID]; !ok {
		return nil, errf(http.StatusBadRequest, "Destination not found")
	}
	if b.BackupType == "compose" {
		b.ComposeID = in.opt("composeId")
		if _, err := s.service("compose", b.ComposeID); err != nil {
			return nil, errf(http.StatusBadRequest, "%s", err.message)
		}
	} else {
		b.DatabaseID = in.opt(b.DatabaseType + "Id")
		if db := s.databases[b.DatabaseID]; db == nil || db.Type != b.DatabaseType {
			return nil, errf(http.StatusBadRequest, "%s database not found", b.DatabaseType)
		}
	}
	b.ID = s.nextID("backup")
	s.backups[b.ID] = b
	return empty{}, nil // backup.create returns nothing
}

func (s *Server) backupOne(in *input) (any, *apiError) {
	id := in.minStr("backupId")
	if err := in.err(); err != nil {
		return nil, err
	}
	b := s.backups[id]
	if b == nil {
		return nil, notFound("Backup")
	}
	return backupRow(b), nil
}

func manualBackup(kind string) func(*Server, *input) (any, *apiError) {
	return func(s *Server, in *input) (any, *apiError) {
		id := in.minStr("backupId")
		if err := in.err(); err != nil {
			return nil, err
		}
		b := s.backups[id]
		if b == nil {
			return nil, errf(http.StatusBadRequest, "Backup not found")
		}
		var dir string
		switch {
		case kind == "compose" && b.BackupType == "compose":
			svc := s.services[b.ComposeID]
			if svc == nil {
				return nil, errf(http.StatusBadRequest, "Compose not found")
			}
			// generateBackupCommand (packages/server/src/utils/backups/utils.ts)
			// builds a compose dump only from metadata.<databaseType>;
			// without it there is no command and the run fails (400
			// "Error running manual Compose backup ", routers/backup.ts).
			if !composeMetadataOK(b) {
				return nil, errf(http.StatusBadRequest, "Error running manual Compose backup ")
			}
			if svc.Status != "done" {
				return nil, errf(http.StatusBadRequest, "Container not found")
			}
			dir = svc.AppName
			if b.ServiceName != "" {
				dir += "_" + b.ServiceName
			}
		case kind != "compose" && b.BackupType == "database" && b.DatabaseType == kind:
			db := s.databases[b.DatabaseID]
			if db == nil {
				return nil, errf(http.StatusBadRequest, "Database not found")
			}
			dir = db.AppName
		default:
			return nil, errf(http.StatusBadRequest, "Error running manual %s backup: backup %s is a %s backup", kind, b.ID, b.DatabaseType)
		}
		s.backupFile(b, dir)
		d := &Deployment{ID: s.nextID("deployment"), Title: "Initializing Backup", Description: "Initializing Backup", Status: "done", BackupID: b.ID, CreatedAt: s.now()}
		s.deployments = append(s.deployments, d)
		return true, nil
	}
}

func (s *Server) listBackupFiles(in *input) (any, *apiError) {
	dest := in.str("destinationId")
	search := in.str("search")
	if err := in.err(); err != nil {
		return nil, err
	}
	if _, ok := s.destinations[dest]; !ok {
		return nil, errf(http.StatusBadRequest, "Destination not found")
	}
	baseDir, term := "", search
	if i := strings.LastIndex(search, "/"); i >= 0 {
		baseDir, term = strings.TrimLeft(search[:i+1], "/"), search[i+1:]
	}
	type rcloneFile struct {
		Path   string            `json:"Path"`
		Name   string            `json:"Name"`
		Size   int64             `json:"Size"`
		IsDir  bool              `json:"IsDir"`
		Hashes map[string]string `json:"Hashes,omitempty"`
	}
	var out []rcloneFile
	dirs := map[string]bool{}
	files := append([]File(nil), s.files[dest]...)
	for i := 1; i < len(files); i++ {
		for j := i; j > 0 && files[j].Path < files[j-1].Path; j-- {
			files[j], files[j-1] = files[j-1], files[j]
		}
	}
	for _, f := range files {
		rest, ok := strings.CutPrefix(f.Path, baseDir)
		if !ok {
			continue
		}
		if dir, _, nested := strings.Cut(rest, "/"); nested {
			if !dirs[dir] {
				dirs[dir] = true
				out = append(out, rcloneFile{Path: baseDir + dir, Name: dir, Size: -1, IsDir: true})
			}
			continue
		}
		// rclone lsjson without --hash (listBackupFiles in
		// apps/dokploy/server/api/routers/backup.ts): no Hashes.
		out = append(out, rcloneFile{Path: f.Path, Name: rest, Size: f.Size})
	}
	filtered := []rcloneFile{}
	for _, f := range out {
		if term == "" || strings.Contains(strings.ToLower(f.Path), strings.ToLower(term)) {
			filtered = append(filtered, f)
		}
	}
	if len(filtered) > 100 {
		filtered = filtered[:100]
	}
	return filtered, nil
}

// object is an optional JSON object (nil when absent or null).
func (in *input) object(k string) map[string]any {
	v, ok := in.body[k]
	if !ok || v == nil {
		return nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		in.bad = append(in.bad, k+": Expected object")
	}
	return m
}

// composeMetadataOK reports whether b's metadata holds what
// generateBackupCommand needs for its databaseType.
func composeMetadataOK(b *BackupConfig) bool {
	m, _ := b.Metadata[b.DatabaseType].(map[string]any)
	str := func(k string) bool { v, ok := m[k].(string); return ok && v != "" }
	switch b.DatabaseType {
	case "postgres":
		return str("databaseUser")
	case "mariadb", "mongo":
		return str("databaseUser") && str("databasePassword")
	case "mysql":
		return str("databaseRootPassword")
	}
	return false
}

// backupUpdate follows update in apps/dokploy/server/api/routers/backup.ts
// with apiUpdateBackup (packages/server/src/db/schema/backups.ts): every
// listed key is required (nullable columns may be null).
func (s *Server) backupUpdate(in *input) (any, *apiError) {
	id := in.minStr("backupId")
	for _, k := range []string{"schedule", "enabled", "prefix", "destinationId", "database", "keepLatestCount", "serviceName", "metadata", "databaseType"} {
		if !in.has(k) {
			in.bad = append(in.bad, k+": Required")
		}
	}
	next := BackupConfig{}
	if err := in.err(); err != nil {
		return nil, err
	}
	b := s.backups[id]
	if b == nil {
		return nil, errf(http.StatusBadRequest, "Backup not found")
	}
	next = *b
	next.Schedule = in.minStr("schedule")
	next.Enabled = in.optBool("enabled", true)
	next.Prefix = in.minStr("prefix")
	next.DestinationID = in.minStr("destinationId")
	next.Database = in.minStr("database")
	next.KeepLatestCount = in.optInt("keepLatestCount", 0)
	next.ServiceName = in.opt("serviceName")
	next.Metadata = in.object("metadata")
	next.DatabaseType = in.enum("databaseType", "", "postgres", "mariadb", "mysql", "mongo", "web-server", "libsql")
	if err := in.err(); err != nil {
		return nil, err
	}
	*b = next
	return empty{}, nil
}

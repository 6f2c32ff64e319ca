package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"golang.org/x/term"

	"giving/campaigns"
	"giving/campaigns/accounts"
	"giving/migrations"
)

const userUsage = `Usage: giving user add --email EMAIL --role admin|trustee|fundraiser [--password-stdin | --password-file FILE]

Accounts for the people who run the appeal:
  admin       trustees' figures and the audit log, and (later) settings and accounts
  trustee     every total, export and the audit log; changes nothing
  fundraiser  their own fundraiser pages (sign-up on the site comes later)

Run 'giving user add --help' for its flags.`

func cmdUser(ctx context.Context, args []string, env func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, userUsage)
		return usageError{"user: say what to do, e.g. giving user add --email EMAIL --role trustee"}
	}
	switch args[0] {
	case "add":
		return cmdUserAdd(ctx, args[1:], env, stdout, stderr, os.Stdin)
	case "-h", "-help", "--help", "help":
		fmt.Fprintln(stdout, userUsage)
		return nil
	}
	fmt.Fprintln(stderr, userUsage)
	return usageError{fmt.Sprintf("user: unknown subcommand %q", args[0])}
}

// cmdUserAdd creates an account. The password never appears on the command line, where
// other users of the machine and the shell history would see it: it is the first line of
// standard input (typed without echo at a terminal) or of a file.
func cmdUserAdd(ctx context.Context, args []string, env func(string) string, stdout, stderr io.Writer, stdin *os.File) error {
	fs := newFlags("user add", "user add --email EMAIL --role admin|trustee|fundraiser [--password-stdin | --password-file FILE]",
		fmt.Sprintf(`Creates an account that can log in at /login, and records "user added" in the audit log.
The password (%d to %d characters) is read from the first line of standard input: typed
at the prompt, without echo, when standard input is a terminal, else piped, e.g.
  printf '%%s\n' "$PASSWORD" | giving user add --email trustee@example.org --role trustee
Roles: admin (everything), trustee (read every figure and the audit log), fundraiser.`,
			accounts.MinPasswordLen, accounts.MaxPasswordLen), stdout)
	email := fs.String("email", "", "the account's email address (required)")
	role := fs.String("role", "", "admin, trustee or fundraiser (required)")
	fromStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input, never prompting")
	file := fs.String("password-file", "", "read the password from the first line of this file instead")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	var missing []string
	if strings.TrimSpace(*email) == "" {
		missing = append(missing, "--email")
	}
	if *role == "" {
		missing = append(missing, "--role")
	}
	if len(missing) > 0 {
		return usageError{"user add: " + strings.Join(missing, " and ") + " required (see giving user add --help)"}
	}
	r := accounts.Role(strings.ToLower(strings.TrimSpace(*role)))
	if !r.Valid() {
		return usageError{fmt.Sprintf("user add: --role %q must be admin, trustee or fundraiser", *role)}
	}
	if *fromStdin && *file != "" {
		return usageError{"user add: give --password-stdin or --password-file, not both"}
	}

	password, err := readPassword(*file, !*fromStdin, stdin, stderr)
	if err != nil {
		return err
	}
	if problem := accounts.PasswordProblem(password, *email); problem != "" {
		return fmt.Errorf("user add: password refused: %s", problem)
	}

	cfg, err := loadConfig(env, needs{database: true})
	if err != nil {
		return err
	}
	store, err := openStore(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer store.Pool().Close()
	if err := migrations.Check(ctx, store.Pool()); err != nil {
		return err
	}
	u, err := accounts.CreateUser(ctx, store, accounts.CommandLine(), *email, password, r)
	var ve *campaigns.ValidationError
	switch {
	case errors.As(err, &ve):
		return fmt.Errorf("user add: %s", validationText(ve))
	case errors.Is(err, campaigns.ErrConflict):
		return fmt.Errorf("user add: an account for %s already exists", accounts.NormalizeEmail(*email))
	case err != nil:
		return err
	}
	fmt.Fprintf(stdout, "user: added %s %s (id %d); they can log in at /login\n", u.Role, u.Email, u.ID)
	return nil
}

// readPassword reads the first line of the file, or of stdin; at a terminal (unless
// prompting is off) it asks twice without echo.
func readPassword(file string, prompt bool, stdin *os.File, stderr io.Writer) (string, error) {
	if file != "" {
		f, err := os.Open(file)
		if err != nil {
			return "", fmt.Errorf("user add: --password-file: %w", err)
		}
		defer f.Close()
		return firstLine(f, "--password-file "+file)
	}
	if fd := int(stdin.Fd()); prompt && term.IsTerminal(fd) {
		fmt.Fprint(stderr, "Password (not shown): ")
		first, err := term.ReadPassword(fd)
		fmt.Fprintln(stderr)
		if err != nil {
			return "", fmt.Errorf("user add: read password: %w", err)
		}
		fmt.Fprint(stderr, "Same password again: ")
		again, err := term.ReadPassword(fd)
		fmt.Fprintln(stderr)
		if err != nil {
			return "", fmt.Errorf("user add: read password: %w", err)
		}
		if string(first) != string(again) {
			return "", errors.New("user add: the two passwords differ; nothing was changed")
		}
		return string(first), nil
	}
	return firstLine(stdin, "standard input")
}

func firstLine(r io.Reader, source string) (string, error) {
	// One line is all that is read; the cap stops a stray binary file being slurped.
	line, err := bufio.NewReader(io.LimitReader(r, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("user add: read password from %s: %w", source, err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", fmt.Errorf("user add: no password on the first line of %s", source)
	}
	return line, nil
}

func validationText(ve *campaigns.ValidationError) string {
	keys := make([]string, 0, len(ve.Fields))
	for k := range ve.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	msgs := make([]string, 0, len(keys))
	for _, k := range keys {
		msgs = append(msgs, ve.Fields[k])
	}
	return strings.Join(msgs, " ")
}

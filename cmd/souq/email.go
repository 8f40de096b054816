package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/mail"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/souq-commerce/souq/internal/natsstream"
	"github.com/souq-commerce/souq/internal/notify"
)

// emailConfig is the flags of the order e-mails (the notifier role).
type emailConfig struct {
	url  string
	from string
}

func (e *emailConfig) flags(fs *flag.FlagSet) {
	fs.StringVar(&e.url, "smtp-url", "", "SMTP server `URL` for order confirmation e-mails: smtp://user:password@host:587 (STARTTLS when the server offers it) or smtps://user:password@host:465 (implicit TLS); set it through the environment, not the command line (empty: no e-mails)")
	fs.StringVar(&e.from, "smtp-from", "", "sender `address` of the e-mails, e.g. \"Souq <orders@shop.example>\" (required with --smtp-url)")
}

func (e emailConfig) problems() []string {
	if e.url == "" {
		return nil
	}
	var p []string
	if _, err := notify.ParseSMTP(e.url); err != nil {
		p = append(p, "--smtp-url: "+err.Error())
	}
	if _, err := mail.ParseAddress(e.from); err != nil {
		p = append(p, fmt.Sprintf("--smtp-from %q: an e-mail address such as \"Souq <orders@shop.example>\" is required with --smtp-url", e.from))
	}
	return p
}

// startNotifier starts the notifier role's e-mail worker in wg, until
// work ends; without --smtp-url it says that no e-mails are sent and starts
// nothing.
func startNotifier(ctx, work context.Context, e emailConfig, orders notify.Orders, stream *natsstream.Stream,
	reg prometheus.Registerer, now func() time.Time, wg *sync.WaitGroup, log *slog.Logger) error {
	if e.url == "" {
		log.Info("order e-mails off: no --smtp-url (SOUQ_SMTP_URL)")
		return nil
	}
	mailer, err := notify.ParseSMTP(e.url) // checked by parseServe
	if err != nil {
		return err
	}
	c, err := stream.SubjectConsumer(ctx, notify.Durable, notify.OrderSubject)
	if err != nil {
		return fmt.Errorf("order e-mails: %w", err)
	}
	marks, err := stream.Marks(ctx, notify.MarksName, notify.MarksTTL)
	if err != nil {
		return fmt.Errorf("order e-mails: %w", err)
	}
	w, err := notify.New(notify.Config{Consumer: c, Orders: orders, Marks: marks, Mailer: mailer, From: e.from, Now: now, Log: log})
	if err != nil {
		return err
	}
	w.Register(reg)
	log.Info("order e-mails on", "smtp", mailer.String(), "from", e.from)
	wg.Go(func() { w.Run(work) })
	return nil
}

// Package notify owns the e-mails Souq sends shoppers: the order
// confirmation, written in the shopper's language (Arabic right to left, or
// English), with a plain-text and an HTML part, and sent over SMTP by a
// worker fed from the event stream.
//
// The worker reads "Order Completed" events through a durable consumer and
// acknowledges an event only once its e-mail has been sent (or there is
// none to send), so nothing is lost when the process dies: the stream
// delivers the event again. It sends at most once per event: before sending
// it looks the event's id up among the marks of e-mails sent, and it marks
// the id after the SMTP server has accepted the message. Between the
// server's acceptance and the mark lies a window (a crash, a mark that
// cannot be written) in which the e-mail can go twice; its Message-ID is
// derived from the event id, so the copies are recognisably one message.
// See docs/email.md.
package notify

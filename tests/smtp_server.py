#!/usr/bin/env python3
"""A real SMTP server on 127.0.0.1 for the `appeal send` tests and benchmark (aiosmtpd).

Stores each accepted message, exactly as received, Maildir-style under DIR/new/ (written to
DIR/tmp/ first, then renamed) and logs what happened to DIR/events.log, one line per event:
CONNECT, AUTH <user> ok|fail, RCPT <addr> <code>, DATA <code>, DROP.

Options select TLS (STARTTLS with --cert/--key, or implicit TLS with --implicit-tls), AUTH with
one fixed user and password (--require-auth: MAIL FROM before AUTH gets 530), and faults:
--reject ADDR (550 at RCPT), --refuse-rcpt REPLY (REPLY to every RCPT), --defer-first N (451
at RCPT the first N times), --busy-first N (421 at RCPT the first N times, then close),
--drop-after-data N (store the message, then close the connection instead of replying, the
first N times), --hang-after-data N (store it and never reply, the first N times), --slow-data S
(store it, then wait S seconds before the reply, every time), --slow-body S (stop reading the
message data for S seconds once some of it arrived, every time: a client whose message is
larger than the sockets' buffers, some megabytes, is held in the middle of it), --error-data N (the handler
fails on the message the first N times: aiosmtpd answers 500 and, as it does then, keeps the
transaction open, so a MAIL FROM without RSET gets 503), --die-after N (store N messages, then
exit at once without answering the last, as a killed server does).

Besides the events above: MAIL (each MAIL FROM), BODY (a --slow-body stall begins), ERROR
(--error-data), DIE (--die-after).

Other modes:
  --make-certs DIR   write ca.pem, server.pem (CA:FALSE, SAN localhost, 127.0.0.1), server.key
  --inspect FILE...  parse each message with email.policy.strict and print one JSON object each
"""

import argparse
import asyncio
import base64
import datetime
import hashlib
import json
import os
import signal
import ssl
import sys
import threading


def make_certs(out):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    import ipaddress

    os.makedirs(out, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "appeal test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True,
                crl_sign=True, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    with open(os.path.join(out, "ca.pem"), "wb") as f:
        f.write(ca.public_bytes(pem))
    with open(os.path.join(out, "server.pem"), "wb") as f:
        f.write(cert.public_bytes(pem))
    with open(os.path.join(out, "server.key"), "wb") as f:
        f.write(
            key.private_bytes(
                pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )


def inspect(paths):
    import email
    from email import policy

    for path in paths:
        with open(path, "rb") as f:
            raw = f.read()
        out = {"path": path, "defects": [], "attachments": []}
        try:
            msg = email.message_from_bytes(raw, policy=policy.strict)
        except Exception as e:  # strict policy raises on a defect
            out["defects"].append("parse: %r" % e)
            print(json.dumps(out))
            continue
        for part in msg.walk():
            out["defects"].extend(repr(d) for d in part.defects)
        for h in ("subject", "from", "to", "reply-to", "message-id", "date"):
            v = msg.get(h)
            out[h] = None if v is None else str(v)
        body = msg.get_body(preferencelist=("plain",))
        html = msg.get_body(preferencelist=("html",))
        out["text"] = body.get_content() if body is not None else None
        out["html"] = html.get_content() if html is not None else None
        out["content_type"] = msg.get_content_type()
        for part in msg.iter_attachments():
            data = part.get_payload(decode=True)
            out["attachments"].append(
                {
                    "name": part.get_filename(),
                    "type": part.get_content_type(),
                    "len": len(data),
                    "sha256": hashlib.sha256(data).hexdigest(),
                    "base64": base64.b64encode(data).decode(),
                }
            )
        print(json.dumps(out, ensure_ascii=False))


class Handler:
    def __init__(self, args):
        self.args = args
        self.dir = args.dir
        for sub in ("tmp", "new", "cur"):
            os.makedirs(os.path.join(self.dir, sub), exist_ok=True)
        self.log = open(os.path.join(self.dir, "events.log"), "a", buffering=1)
        self.seq = 0
        self.deferred = 0
        self.busy = 0
        self.dropped = 0
        self.hung = 0
        self.errored = 0
        self.lock = threading.Lock()

    def event(self, line):
        with self.lock:
            self.log.write(line + "\n")

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        a = self.args
        if a.refuse_rcpt:
            self.event("RCPT %s %s" % (address, a.refuse_rcpt[:3]))
            return a.refuse_rcpt
        if address in a.reject:
            self.event("RCPT %s 550" % address)
            return "550 5.1.1 <%s>: mailbox unavailable" % address
        if self.deferred < a.defer_first:
            self.deferred += 1
            self.event("RCPT %s 451" % address)
            return "451 4.7.1 greylisted, try again later"
        if self.busy < a.busy_first:
            self.busy += 1
            self.event("RCPT %s 421" % address)
            server.transport.close()
            return "421 4.3.2 too busy, closing"
        envelope.rcpt_tos.append(address)
        self.event("RCPT %s 250" % address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.event("FROM %s" % envelope.mail_from)
        if self.errored < self.args.error_data:
            self.errored += 1
            self.event("ERROR")
            raise RuntimeError("test fault: the handler failed")
        with self.lock:
            self.seq += 1
            name = "%d.%06d.appeal-test" % (os.getpid(), self.seq)
            seq = self.seq
        tmp = os.path.join(self.dir, "tmp", name)
        with open(tmp, "wb") as f:
            f.write(envelope.original_content)
        os.rename(tmp, os.path.join(self.dir, "new", name))
        if 0 < self.args.die_after <= seq:
            self.event("DIE")
            os._exit(0)
        if self.hung < self.args.hang_after_data:
            self.hung += 1
            self.event("HANG")
            await asyncio.sleep(3600)
        if self.args.slow_data > 0:
            self.event("SLOW")
            await asyncio.sleep(self.args.slow_data)
        if self.dropped < self.args.drop_after_data:
            self.dropped += 1
            self.event("DROP")
            server.transport.abort()
            return "250 OK (never seen)"
        self.event("DATA 250")
        return "250 2.0.0 OK queued as %s" % name


def authenticator(args, handler):
    from aiosmtpd.smtp import AuthResult

    def check(server, session, envelope, mechanism, auth_data):
        login = auth_data.login.decode() if isinstance(auth_data.login, bytes) else auth_data.login
        password = auth_data.password
        if isinstance(password, bytes):
            password = password.decode()
        ok = login == args.user and password == args.password
        handler.event("AUTH %s %s" % (login, "ok" if ok else "fail"))
        return AuthResult(success=ok, handled=False)

    return check


def serve(args):
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import SMTP

    handler = Handler(args)
    ctx = None
    if args.cert:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(args.cert, args.key)

    class LoggingSMTP(SMTP):
        in_body = False
        stalled = None

        def connection_made(self, transport):
            handler.event("CONNECT")
            return super().connection_made(transport)

        async def smtp_MAIL(self, arg):
            handler.event("MAIL")
            return await super().smtp_MAIL(arg)

        async def push(self, status):
            await super().push(status)
            text = status.decode() if isinstance(status, bytes) else status
            self.in_body = text.startswith("354")

        def data_received(self, data):
            # During a stall what still comes in is kept back, and reading is paused again:
            # the reader itself resumes the transport once it has used up its own buffer.
            if self.stalled is not None:
                self.stalled.append(data)
                self.transport.pause_reading()
                return
            super().data_received(data)
            if self.in_body and args.slow_body > 0:
                self.in_body = False
                handler.event("BODY")
                self.stalled = []
                self.transport.pause_reading()
                asyncio.get_running_loop().call_later(args.slow_body, self.resume)

        def resume(self):
            held, self.stalled = self.stalled, None
            if self.transport is None or self.transport.is_closing():
                return
            for data in held:
                super().data_received(data)
            self.transport.resume_reading()

    class LoggingController(Controller):
        def factory(self):
            return LoggingSMTP(self.handler, **self.SMTP_kwargs)

    kwargs = {"hostname": "127.0.0.1", "port": args.port, "server_hostname": "localhost"}
    smtp_kwargs = {}
    if args.user:
        smtp_kwargs["authenticator"] = authenticator(args, handler)
        # With implicit TLS the whole session is encrypted, but aiosmtpd only counts STARTTLS.
        smtp_kwargs["auth_require_tls"] = bool(ctx) and not args.implicit_tls
        smtp_kwargs["auth_required"] = args.require_auth
    if ctx and args.implicit_tls:
        kwargs["ssl_context"] = ctx
    elif ctx:
        smtp_kwargs["tls_context"] = ctx
        smtp_kwargs["require_starttls"] = True
    controller = LoggingController(handler, **kwargs, **smtp_kwargs)
    controller.start()
    # aiosmtpd connects to itself once to check it is up; that connection is not the test's.
    with handler.lock:
        handler.log.seek(0)
        handler.log.truncate()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    print("listening on 127.0.0.1:%d" % args.port, flush=True)
    stop.wait()
    controller.stop()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--port", type=int)
    p.add_argument("--dir")
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--implicit-tls", action="store_true")
    p.add_argument("--user")
    p.add_argument("--password")
    p.add_argument("--reject", action="append", default=[])
    p.add_argument("--defer-first", type=int, default=0)
    p.add_argument("--busy-first", type=int, default=0)
    p.add_argument("--drop-after-data", type=int, default=0)
    p.add_argument("--hang-after-data", type=int, default=0)
    p.add_argument("--slow-data", type=float, default=0)
    p.add_argument("--slow-body", type=float, default=0)
    p.add_argument("--error-data", type=int, default=0)
    p.add_argument("--die-after", type=int, default=0)
    p.add_argument("--refuse-rcpt", default=None)
    p.add_argument("--require-auth", action="store_true")
    p.add_argument("--make-certs")
    p.add_argument("--inspect", nargs="+")
    args = p.parse_args()
    if args.make_certs:
        make_certs(args.make_certs)
    elif args.inspect:
        inspect(args.inspect)
    else:
        if not args.port or not args.dir:
            p.error("--port and --dir are required to serve")
        serve(args)


if __name__ == "__main__":
    main()

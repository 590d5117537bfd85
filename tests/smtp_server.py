#!/usr/bin/env python3
"""A real SMTP server for closedloop's mail tests (aiosmtpd; Debian: python3-aiosmtpd).

Every message it accepts is stored in DIR as one JSON file: the envelope (MAIL FROM, RCPT TO)
and the parsed message (Message-ID, decoded Subject, plain-text and HTML bodies, attachments
with their name, type and base64 content).
Recipients whose address starts with "refuse" get 550 at RCPT.
While the file DIR/hang exists, a message is stored and then DATA is never answered: a client
that dies then has sent a mail without knowing it.
Prints "ready" once it listens; stops on SIGTERM or SIGKILL.
"""
import argparse
import asyncio
import base64
import json
import os
import time
import uuid
from email import message_from_bytes, policy

from aiosmtpd.smtp import SMTP


class Store:
    def __init__(self, directory):
        self.dir = directory

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower().startswith("refuse"):
            return "550 5.1.1 no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        msg = message_from_bytes(raw, policy=policy.default)
        plain = msg.get_body(preferencelist=("plain",))
        html = msg.get_body(preferencelist=("html",))
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "message_id": msg["message-id"],
            "subject": str(msg["subject"] or ""),
            "text": plain.get_content() if plain else "",
            "html": html.get_content() if html else "",
            "attachments": [
                {
                    "filename": part.get_filename(),
                    "content_type": part.get_content_type(),
                    "base64": base64.b64encode(part.get_payload(decode=True)).decode(),
                }
                for part in msg.iter_attachments()
            ],
        }
        name = f"{time.time_ns()}-{uuid.uuid4().hex}.json"
        tmp = os.path.join(self.dir, "." + name)
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(record, f, ensure_ascii=False)
        os.rename(tmp, os.path.join(self.dir, name))
        if os.path.exists(os.path.join(self.dir, "hang")):
            await asyncio.sleep(3600)
        return "250 2.0.0 Message accepted for delivery"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", required=True)
    args = parser.parse_args()
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    handler = Store(args.dir)
    server = loop.run_until_complete(
        loop.create_server(
            lambda: SMTP(handler, hostname="smtp.test", enable_SMTPUTF8=True),
            host="127.0.0.1",
            port=args.port,
            reuse_address=True,
        )
    )
    print("ready", flush=True)
    try:
        loop.run_forever()
    finally:
        server.close()


if __name__ == "__main__":
    main()

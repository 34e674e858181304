"""`connector-events` command line: run the service, manage the registry, tail the events, check configs."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

import orjson

from service.config import Settings, load_settings
from service.errors import ServiceError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="connector-events", description=__doc__)
    parser.add_argument("--config", type=Path, help="settings YAML file (env vars override it)")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run the service until SIGTERM")
    run.add_argument("--role", choices=["all", "poller", "ingress"], help="components to run (default: settings)")

    apply = commands.add_parser("apply", help="upsert the elements and instances a YAML manifest declares")
    apply.add_argument("-f", "--file", type=Path, required=True)

    delete = commands.add_parser("delete", help="delete an instance or an element")
    delete.add_argument("kind", choices=["instance", "element"])
    delete.add_argument("name")

    tail = commands.add_parser("tail", help="print events from the events topic as JSON lines")
    tail.add_argument("--from-beginning", action="store_true", help="start at the oldest retained event")
    tail.add_argument("-n", "--count", type=int, help="stop after this many events")
    tail.add_argument("--timeout", type=float, help="stop after this many seconds without an event")
    tail.add_argument("--dlq", action="store_true", help="read the dead-letter topic instead")

    check = commands.add_parser("check-poller-config", help="validate an event.poller.configuration value")
    check.add_argument("file")
    check.add_argument("--at", help="render URLs as of this ISO-8601 instant (default: now)")
    check.add_argument("--json", action="store_true", help="machine-readable output")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script and of `python -m service`."""
    args = _parser().parse_args(argv)
    if args.command == "check-poller-config":
        from service.polling.check import check_command  # noqa: PLC0415 - needs no settings, no Kafka

        return check_command(args.file, args.at, args.json)
    if args.command == "apply":
        try:
            args.manifest_text = args.file.read_text(encoding="utf-8")
        except OSError as exc:
            print(f"connector-events: cannot read {str(args.file)!r}: {exc.strerror}", file=sys.stderr)
            return 2
    try:
        settings = load_settings(args.config, **({"role": args.role} if getattr(args, "role", None) else {}))
        return int(asyncio.run(_dispatch(args, settings)))
    except ServiceError as exc:
        print(f"connector-events: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


async def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    # Imports are local so that each command loads only what it uses.
    if args.command == "run":
        from service.app import run_service  # noqa: PLC0415
        from service.logs import configure_logging  # noqa: PLC0415

        configure_logging(settings.log_format, settings.log_level)
        return await run_service(settings)
    if args.command == "apply":
        return await _apply(settings, args.manifest_text, str(args.file))
    if args.command == "delete":
        from service.registry import operations  # noqa: PLC0415

        if args.kind == "instance":
            await operations.delete_instance(settings, args.name)
        else:
            await operations.delete_element(settings, args.name)
        print(f"deleted {args.kind} {args.name}")
        return 0
    if args.command == "tail":
        from service.tail import tail_events  # noqa: PLC0415

        topic = settings.topics.dlq if args.dlq else settings.topics.events
        async for line in tail_events(settings, topic, args.from_beginning, args.count, args.timeout):
            sys.stdout.write(line + "\n")
            sys.stdout.flush()
        return 0
    raise AssertionError(args.command)


async def _apply(settings: Settings, text: str, source: str) -> int:
    from service.app import prepare_topics  # noqa: PLC0415
    from service.registry.manifest import parse_manifest  # noqa: PLC0415
    from service.registry.operations import apply_manifest  # noqa: PLC0415
    from service.registry.validation import instance_checks  # noqa: PLC0415

    manifest = parse_manifest(text, source=source)
    # `apply` may come before the first `run` on a new cluster: the registry topics must exist to hold it.
    await prepare_topics(settings)
    result = await apply_manifest(settings, manifest, instance_checks())
    print(orjson.dumps({"applied": {"elements": result.elements, "instances": result.instances}}).decode())
    return 0


if __name__ == "__main__":
    sys.exit(main())

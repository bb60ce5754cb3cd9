"""``mailroom templates image add|remove|list``: a template's images (SPEC §2).

    mailroom templates image add CODE FILE [--name NAME]
    mailroom templates image remove CODE NAME
    mailroom templates image list CODE [--json]

The HTML of the template shows an image with ``<img src="cid:NAME">``; NAME is the
file's name unless ``--name`` gives another. Every change goes through the one door
(``mailing.changes``), as the Templates pane's ctrl+o does.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from tui.context import Context


def register(sub: Any) -> None:
    templates = sub.add_parser("templates", help="a template's images (cid: in its HTML)")
    tsub = templates.add_subparsers(dest="templates_command", metavar="WHAT", required=True)
    image = tsub.add_parser("image", help="add, remove or list the images a template's HTML shows")
    isub = image.add_subparsers(dest="image_command", metavar="ACTION", required=True)

    add = isub.add_parser(
        "add",
        help='add an image (PNG, JPEG, GIF or WebP, at most 2 MB); HTML: <img src="cid:NAME">',
    )
    add.add_argument("code", metavar="CODE", help="the template's code")
    add.add_argument("file", metavar="FILE", help="the image file")
    add.add_argument(
        "--name", metavar="NAME", help="the name the HTML uses, cid:NAME (default: the file's name)"
    )
    add.set_defaults(handler=image_add)

    remove = isub.add_parser("remove", help="remove an image by its name")
    remove.add_argument("code", metavar="CODE", help="the template's code")
    remove.add_argument("name", metavar="NAME", help="the image's name (as listed)")
    remove.set_defaults(handler=image_remove)

    ls = isub.add_parser("list", help="list a template's images")
    ls.add_argument("code", metavar="CODE", help="the template's code")
    ls.add_argument("--json", action="store_true", help="print JSON")
    ls.set_defaults(handler=image_list)


def image_add(args: argparse.Namespace, ctx: Context) -> int:
    from mailing.changes import add_template_image

    ref = add_template_image(ctx.store, args.code, args.file, args.name)
    print(
        f"Added {ref.name} ({ref.size:,} bytes, {ref.content_type}) to template {args.code}; "
        f'its HTML shows it with <img src="cid:{ref.name}">.'
    )
    return 0


def image_remove(args: argparse.Namespace, ctx: Context) -> int:
    from mailing.changes import remove_template_image

    remove_template_image(ctx.store, args.code, args.name)
    print(f"Removed {args.name} from template {args.code}.")
    return 0


def image_list(args: argparse.Namespace, ctx: Context) -> int:
    from mailing.changes import template_images

    images = template_images(ctx.store, args.code)
    if args.json:
        print(json.dumps([i.model_dump(mode="json") for i in images], indent=2))
        return 0
    for i in images:
        print(f"{i.name}  ({i.size:,} bytes, {i.content_type})  cid:{i.name}")
    if not images:
        print(f"Template {args.code} has no images.")
    return 0

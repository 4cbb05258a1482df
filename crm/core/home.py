"""Home-page widgets. Apps add theirs in AppConfig.ready():
`register_widget("leads.my_open", "leads/_home_widget.html", context_fn, order=20)`."""
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Widget:
    key: str
    template: str
    context: Callable  # (request) -> dict, or None to hide the widget
    order: int = 100
    roles: frozenset | None = None  # role names that see it; None = everyone
    wide: bool = False  # the whole width of the page; its context's "first" puts it above My day


_widgets: dict[str, Widget] = {}


def register_widget(key: str, template: str, context: Callable, *, roles=None, order: int = 100,
                    wide: bool = False) -> None:
    _widgets[key] = Widget(key, template, context, order, frozenset(roles) if roles else None, wide)


def widgets_for(request) -> list[dict]:
    result = []
    for widget in sorted(_widgets.values(), key=lambda w: (w.order, w.key)):
        if widget.roles is not None and getattr(getattr(request.user, "role", None), "name", None) not in widget.roles:
            continue
        ctx = widget.context(request)
        if ctx is not None:
            result.append({"key": widget.key, "template": widget.template, "ctx": ctx, "wide": widget.wide,
                           "first": widget.wide and bool(ctx.get("first"))})
    return result

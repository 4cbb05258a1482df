"""Account and contact pages: detail (key facts, tabs, inline edit, the hierarchy with its roll-ups, contact
roles, the merged 360° timeline), create and edit with duplicate warnings, delete, and vCard export. The lists
are the shared list engine's (crm.lists), configured in accounts/records.py; duplicates, merge, import and the
History tab are the shared record pages' (crm.core.record_views, crm.imports). Every record is read through
visibility (404 for what the user may not see) and every field through field-level security."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import selectors, services
from accounts.forms import AccountCreateForm, AccountForm, ContactCreateForm, ContactForm, RoleForm
from accounts.models import Account, Contact, ContactRole
from accounts.rendering import details_html, tree_html
from accounts.rollups import rollup_rows
from crm.access.fls import hidden_fields, readonly_fields
from crm.core.forms import errors_to_form
from crm.core import display, records
from crm.core.cached_relations import attach
from crm.core.record_views import duplicate_warning
from crm.core.services import recent_view_touch
from crm.core.urls_safe import safe_next

ACCOUNT_RT = "accounts.account"
CONTACT_RT = "accounts.contact"

ACCOUNT_FIELDS = ["name", "account_type", "industry", "parent", "rating", "website", "phone", "fax", "employees",
                  "annual_revenue", "currency", "billing_street", "billing_city", "billing_state",
                  "billing_postal_code", "billing_country", "shipping_street", "shipping_city", "shipping_state",
                  "shipping_postal_code", "shipping_country", "description", "owner", "created_at"]
CONTACT_FIELDS = ["salutation", "first_name", "last_name", "title", "department", "account", "reports_to", "email",
                  "secondary_email", "phone", "mobile", "mailing_street", "mailing_city", "mailing_state",
                  "mailing_postal_code", "mailing_country", "birthdate", "preferred_language", "email_opt_in",
                  "email_opt_in_at", "email_opt_in_source", "email_opt_out", "email_opt_out_at",
                  "email_opt_out_source", "do_not_call", "do_not_call_at", "do_not_call_source", "description",
                  "owner", "created_at"]
# Fields the detail pages edit in place.
ACCOUNT_INLINE = ["account_type", "industry", "rating", "phone", "website", "employees", "owner"]
CONTACT_INLINE = ["title", "department", "account", "email", "phone", "mobile", "owner"]


def _readable(record, rows: list) -> list:
    """Detail rows with countries and languages by their names in the reader's language, not their codes."""
    from django.utils.html import escape
    from django.utils.safestring import mark_safe
    from django.utils.translation import get_language

    from accounts.forms import COUNTRY_FIELDS, country_choices, language_choices

    language = get_language() or "en"
    result = []
    for label, value, name in rows:
        names = dict(country_choices(language)) if name in COUNTRY_FIELDS else (
            dict(language_choices(language)) if name == "preferred_language" else None)
        code = getattr(record, name, "") if names else ""
        if code and code in names:
            value = mark_safe(escape(names[code]))
        result.append((label, value, name))
    return result


def _require(user, record_type: str, action: str) -> None:
    if not user.can(record_type, action):
        raise Http404


def _editable(user, model, record_type: str, pk: int) -> bool:
    return user.can(record_type, "edit") and model.objects.visible_to(user, "edit").filter(pk=pk).exists()


def _inline(user, record_type: str, names: list[str], can_edit: bool) -> set[str]:
    if not can_edit:
        return set()
    return set(names) - hidden_fields(user, record_type) - readonly_fields(user, record_type)


def _form_status(request) -> int:
    return 422 if request.method == "POST" else 200


# --- accounts --------------------------------------------------------------------------------------------------

@login_required
def account_detail(request, pk):
    user = request.user
    account = get_object_or_404(Account.objects.visible_to(user), pk=pk)
    attach(account, "owner")
    recent_view_touch(user=user, record=account)
    hidden = hidden_fields(user, ACCOUNT_RT)
    can_edit = _editable(user, Account, ACCOUNT_RT, pk)
    inline = _inline(user, ACCOUNT_RT, ACCOUNT_INLINE, can_edit)
    if "parent" in hidden:  # the hierarchy is the parent field: hidden from this reader, no tree either
        tree = selectors.Hierarchy([], selectors.TreeNode(account.pk, account.name, True, current=True), [account.pk])
    else:
        tree = selectors.hierarchy(user=user, account=account)
    if account.parent_id and tree.ancestors:
        # The parent as the tree read it (no query): its name only for a reader who may open it.
        nearest = tree.ancestors[-1]
        Account.parent.field.set_cached_value(account, Account(pk=nearest.id, name=nearest.name if nearest.visible
                                                               else _("An account you cannot open")))
    detail_url = records.get(ACCOUNT_RT).detail_url
    field_url = reverse("accounts:field", args=[pk, "__name__"])
    can_view_contacts = user.can(CONTACT_RT, "view")
    return render(request, "accounts/account_detail.html", {
        "account": account, "hidden": hidden,
        "parent_visible": bool(account.parent_id and tree.ancestors and tree.ancestors[-1].visible),
        "parent_name": tree.ancestors[-1].name if tree.ancestors else "",
        "details": details_html(_readable(account, display.detail_rows(account, ACCOUNT_FIELDS, user)), inline,
                                lambda name: field_url.replace("__name__", name)),
        "inline_fields": inline,
        "custom": display.custom_sections(account, user),
        "can_edit": can_edit, "can_delete": can_edit and user.can(ACCOUNT_RT, "delete"),
        "tree": tree, "tree_html": "" if tree.empty else tree_html(tree, detail_url),
        "rollups": rollup_rows(user=user, account_id=account.pk, subtree_ids=tree.subtree_ids),
        "roles": selectors.account_roles(user=user, account=account) if can_view_contacts else None,
        "role_form": RoleForm(user=user, pick="contact") if can_edit and can_view_contacts else None,
        "account_roles_url": reverse("accounts:roles", args=[pk]),
        "can_create_contact": user.can(CONTACT_RT, "create"),
        "timeline_url": reverse("accounts:timeline", args=[pk]),
        # Only web addresses become links (an imported value could carry another scheme).
        "website_url": account.website if account.website.lower().startswith(("http://", "https://")) else "",
    })


def _save_new(request, form, record_type: str, template: str, create, context: dict):
    """A valid create form: warn of possible duplicates first (unless confirmed), then create."""
    dupes, hidden = duplicate_warning(request, records.get(record_type), form)
    if (dupes or hidden) and not form.cleaned_data.get("confirm_duplicates"):
        context.update(duplicates=dupes, hidden_duplicates=hidden)
        return render(request, template, context, status=409)
    try:
        return create()
    except ValidationError as exc:
        errors_to_form(form, exc)
        return render(request, template, context, status=422)


@login_required
def account_create(request):
    user = request.user
    _require(user, ACCOUNT_RT, "create")
    initial = {"owner": user.pk}
    parent = request.GET.get("parent", "")
    if parent.isascii() and parent.isdigit() and len(parent) < 19:
        initial["parent"] = int(parent)
    form = AccountCreateForm(request.POST or None, user=user, initial=initial)
    context = {"form": form}
    if request.method == "POST" and form.is_valid():
        def create():
            account = services.account_create(actor=user, **_model_values(form))
            messages.success(request, _("Account %(name)s created.") % {"name": account})
            return redirect("accounts:detail", pk=account.pk)

        return _save_new(request, form, ACCOUNT_RT, "accounts/account_form.html", create, context)
    return render(request, "accounts/account_form.html", context, status=_form_status(request))


def _model_values(form) -> dict:
    """What a valid create form sets on the new record: its model fields and the custom values."""
    instance = form.instance
    values = {f.name: getattr(instance, f.name) for f in instance._meta.concrete_fields
              if f.editable and not f.primary_key and f.name not in ("created_at", "updated_at", "created_by")}
    values["custom"] = dict(instance.custom or {})
    return values


@login_required
def account_edit(request, pk):
    user = request.user
    _require(user, ACCOUNT_RT, "edit")
    account = get_object_or_404(Account.objects.visible_to(user, "edit"), pk=pk)
    before = services.snapshot(account)
    form = AccountForm(request.POST or None, instance=account, user=user)
    if request.method == "POST" and form.is_valid():
        try:
            services.account_update(actor=user, account=form.instance, before=before)
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            messages.success(request, _("Account %(name)s saved.") % {"name": account})
            return redirect("accounts:detail", pk=account.pk)
    return render(request, "accounts/account_form.html", {"form": form, "account": account},
                  status=_form_status(request))


@login_required
def account_delete(request, pk):
    user = request.user
    _require(user, ACCOUNT_RT, "delete")
    account = get_object_or_404(Account.objects.visible_to(user, "edit"), pk=pk)
    if request.method == "POST":
        services.account_delete(actor=user, account=account)
        messages.success(request, _("Account %(name)s deleted.") % {"name": account})
        return redirect("accounts:list")
    return render(request, "accounts/confirm_delete.html", {
        "record": account, "list_url": reverse("accounts:list"), "list_label": _("Accounts"),
        "question": _("Delete the account %(name)s? Its contacts stay, without an account; its subsidiaries "
                      "stay, without a parent.") % {"name": account}})


def _inline_field(request, *, record, record_type: str, names: list[str], form_class, update, url: str,
                  name: str):
    """htmx: one field of a detail page, shown, opened for editing, and saved."""
    user = request.user
    if name not in names or name in hidden_fields(user, record_type):
        raise Http404
    model = type(record)
    editable = _editable(user, model, record_type, record.pk) and name not in readonly_fields(user, record_type)
    context = {"record": record, "name": name, "label": display.field_label(model, name), "url": url,
               "value": display.field_html(record, name), "editable": editable}
    if not editable or request.method == "GET" and request.GET.get("edit") != "1":
        return render(request, "accounts/_inline_field.html", context)
    before = services.snapshot(record)
    form = form_class(request.POST if request.method == "POST" else None, instance=record, user=user)
    form.only(name)
    if request.method == "POST" and form.is_valid():
        try:
            update(form.instance, before)
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            record = model.objects.get(pk=record.pk)
            context.update(record=record, value=display.field_html(record, name), saved=True)
            return render(request, "accounts/_inline_field.html", context)
    context["form"] = form
    return render(request, "accounts/_inline_field.html", context, status=_form_status(request))


@login_required
def account_field(request, pk, name):
    account = get_object_or_404(Account.objects.visible_to(request.user), pk=pk)
    return _inline_field(request, record=account, record_type=ACCOUNT_RT, names=ACCOUNT_INLINE, form_class=AccountForm,
                         update=lambda a, before: services.account_update(actor=request.user, account=a, before=before),
                         url=reverse("accounts:field", args=[pk, name]), name=name)


# --- contacts --------------------------------------------------------------------------------------------------

@login_required
def contact_detail(request, pk):
    user = request.user
    contact = get_object_or_404(Contact.objects.visible_to(user).select_related("account", "reports_to"), pk=pk)
    attach(contact, "owner")
    recent_view_touch(user=user, record=contact)
    can_edit = _editable(user, Contact, CONTACT_RT, pk)
    inline = _inline(user, CONTACT_RT, CONTACT_INLINE, can_edit)
    field_url = reverse("contacts:field", args=[pk, "__name__"])
    visible_account = selectors.visible_ids(user=user, kind="account", ids=[contact.account_id])
    visible_boss = selectors.visible_ids(user=user, kind="contact", ids=[contact.reports_to_id])
    can_view_accounts = user.can(ACCOUNT_RT, "view")
    return render(request, "accounts/contact_detail.html", {
        "contact": contact, "hidden": hidden_fields(user, CONTACT_RT),
        "account_visible": contact.account_id in visible_account,
        "boss_visible": contact.reports_to_id in visible_boss,
        "details": details_html(_readable(contact, display.detail_rows(contact, CONTACT_FIELDS, user)), inline,
                                lambda name: field_url.replace("__name__", name)),
        "inline_fields": inline,
        "custom": display.custom_sections(contact, user),
        "can_edit": can_edit, "can_delete": can_edit and user.can(CONTACT_RT, "delete"),
        "can_export": user.can(CONTACT_RT, "export"),
        "roles": selectors.contact_roles(user=user, contact=contact) if can_view_accounts else None,
        "role_form": RoleForm(user=user, pick="account") if can_view_accounts and user.can(ACCOUNT_RT, "edit")
        else None,
        "contact_roles_url": reverse("contacts:roles", args=[pk]),
        "timeline_url": reverse("contacts:timeline", args=[pk]),
    })


@login_required
def contact_create(request):
    user = request.user
    _require(user, CONTACT_RT, "create")
    initial = {"owner": user.pk}
    account = request.GET.get("account", "")
    if account.isascii() and account.isdigit() and len(account) < 19:
        initial["account"] = int(account)
    form = ContactCreateForm(request.POST or None, user=user, initial=initial)
    context = {"form": form}
    if request.method == "POST" and form.is_valid():
        def create():
            contact = services.contact_create(actor=user, **_model_values(form))
            messages.success(request, _("Contact %(name)s created.") % {"name": contact})
            return redirect("contacts:detail", pk=contact.pk)

        return _save_new(request, form, CONTACT_RT, "accounts/contact_form.html", create, context)
    return render(request, "accounts/contact_form.html", context, status=_form_status(request))


@login_required
def contact_edit(request, pk):
    user = request.user
    _require(user, CONTACT_RT, "edit")
    contact = get_object_or_404(Contact.objects.visible_to(user, "edit"), pk=pk)
    before = services.snapshot(contact)
    form = ContactForm(request.POST or None, instance=contact, user=user)
    if request.method == "POST" and form.is_valid():
        try:
            services.contact_update(actor=user, contact=form.instance, before=before)
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            messages.success(request, _("Contact %(name)s saved.") % {"name": contact})
            return redirect("contacts:detail", pk=contact.pk)
    return render(request, "accounts/contact_form.html", {"form": form, "contact": contact},
                  status=_form_status(request))


@login_required
def contact_delete(request, pk):
    user = request.user
    _require(user, CONTACT_RT, "delete")
    contact = get_object_or_404(Contact.objects.visible_to(user, "edit"), pk=pk)
    if request.method == "POST":
        services.contact_delete(actor=user, contact=contact)
        messages.success(request, _("Contact %(name)s deleted.") % {"name": contact})
        return redirect("contacts:list")
    return render(request, "accounts/confirm_delete.html", {
        "record": contact, "list_url": reverse("contacts:list"), "list_label": _("Contacts"),
        "question": _("Delete the contact %(name)s? Their roles on accounts go with them.") % {"name": contact}})


@login_required
def contact_field(request, pk, name):
    contact = get_object_or_404(Contact.objects.visible_to(request.user), pk=pk)
    return _inline_field(request, record=contact, record_type=CONTACT_RT, names=CONTACT_INLINE, form_class=ContactForm,
                         update=lambda c, before: services.contact_update(actor=request.user, contact=c, before=before),
                         url=reverse("contacts:field", args=[pk, name]), name=name)


# --- contact roles ---------------------------------------------------------------------------------------------

def _role_back(request, account_pk: int) -> str:
    return safe_next(request, reverse("accounts:detail", args=[account_pk]))


@login_required
@require_POST
def account_roles(request, pk):
    """Add a contact's role on this account (the contact picked among those the user may see)."""
    user = request.user
    _require(user, ACCOUNT_RT, "edit")
    account = get_object_or_404(Account.objects.visible_to(user, "edit"), pk=pk)
    form = RoleForm(request.POST, user=user, pick="contact")
    _role_add(request, form, account=account, contact=form.cleaned_data["record"] if form.is_valid() else None)
    return redirect(_role_back(request, pk))


@login_required
@require_POST
def contact_roles(request, pk):
    """Add this contact's role on an account (picked among the accounts the user may edit)."""
    user = request.user
    _require(user, ACCOUNT_RT, "edit")
    contact = get_object_or_404(Contact.objects.visible_to(user), pk=pk)
    form = RoleForm(request.POST, user=user, pick="account")
    form.fields["record"].queryset = Account.objects.visible_to(user, "edit")
    _role_add(request, form, account=form.cleaned_data["record"] if form.is_valid() else None, contact=contact)
    return redirect(safe_next(request, reverse("contacts:detail", args=[pk])))


def _role_add(request, form, *, account, contact) -> None:
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return
    try:
        role = services.contact_role_add(actor=request.user, contact=contact, account=account,
                                         role=form.cleaned_data["role"], is_primary=form.cleaned_data["is_primary"])
    except services.RoleRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("%(contact)s is %(role)s on %(account)s.") % {
            "contact": contact, "role": role.get_role_display(), "account": account})


def _role_for(request, pk: int) -> ContactRole:
    user = request.user
    _require(user, ACCOUNT_RT, "edit")
    role = get_object_or_404(ContactRole.objects.select_related("contact", "account")
                             .filter(account__in=Account.objects.visible_to(user, "edit").values("pk"),
                                     contact__in=Contact.objects.visible_to(user).values("pk")), pk=pk)
    return role


@login_required
@require_POST
def role_primary(request, pk):
    role = _role_for(request, pk)
    services.contact_role_make_primary(role=role, actor=request.user)
    messages.success(request, _("%(contact)s is the primary contact of %(account)s.") % {
        "contact": role.contact, "account": role.account})
    return redirect(_role_back(request, role.account_id))


@login_required
@require_POST
def role_remove(request, pk):
    role = _role_for(request, pk)
    account_pk = role.account_id
    services.contact_role_remove(role=role, actor=request.user)
    messages.success(request, _("Role removed."))
    return redirect(_role_back(request, account_pk))


# --- the merged (360°) timeline --------------------------------------------------------------------------------

def _timeline(request, record, url: str):
    """A page of the record's merged timeline: with the filter on the first page, the next page alone when
    scrolled to (htmx, `after=`)."""
    from crm.access.models import User
    from crm.core.widgets import select_html
    from crm.activities.merged import Cursor, empty_text, kind_choices, timeline_page
    from crm.lists.engine import HostileInput, check_params

    try:
        check_params(request.GET)
    except HostileInput as exc:
        return HttpResponse(str(exc), status=400)
    kinds_known = kind_choices()
    valid = {kind for kind, _label in kinds_known}
    kinds = [k for k in request.GET.getlist("kind") if k in valid]
    people = User.objects.choices(active_only=False)
    raw_who = request.GET.get("who", "")
    who = int(raw_who) if raw_who.isascii() and raw_who.isdigit() and int(raw_who) in dict(people) else None
    cursor = Cursor.decode(request.GET.get("after"))
    page = timeline_page(user=request.user, record=record, kinds=kinds, who=who, cursor=cursor)
    query = [("kind", k) for k in kinds] + ([("who", str(who))] if who is not None else [])
    from django.utils.http import urlencode

    more_url = f"{url}?{urlencode([*query, ('after', page.next_cursor)])}" if page.next_cursor else ""
    context = {"items": page.items, "more_url": more_url, "record": record, "url": url,
               "empty": empty_text(bool(kinds or who is not None))}
    if cursor is not None:
        return render(request, "accounts/_timeline.html#items", context)
    if request.htmx and request.GET.get("part") == "list":
        return render(request, "accounts/_timeline.html#list", context)
    active = User.objects.choices(active_only=True)
    if who is not None and who not in dict(active):  # an inactive user picked before: kept in the list
        active = [*active, (who, dict(people)[who])]
    context.update(kinds=[(k, label, k in kinds) for k, label in kinds_known],
                   who_select=select_html(active, name="who", id="timeline360-who", empty=_("Anyone"),
                                          selected=[who] if who is not None else [],
                                          css="form-select form-select-sm w-auto"))
    return render(request, "accounts/_timeline.html", context)


@login_required
def account_timeline(request, pk):
    account = get_object_or_404(Account.objects.visible_to(request.user), pk=pk)
    return _timeline(request, account, reverse("accounts:timeline", args=[pk]))


@login_required
def contact_timeline(request, pk):
    contact = get_object_or_404(Contact.objects.visible_to(request.user), pk=pk)
    return _timeline(request, contact, reverse("contacts:timeline", args=[pk]))


# --- vCard export ----------------------------------------------------------------------------------------------

def _vcard_response(request, ids: list[int], filename: str) -> HttpResponse:
    from crm.access.models import AuditLog
    from crm.access.services import audit
    from crm.core.middleware import client_ip
    from crm.imports.vcard_write import VERSIONS, write_vcards

    user = request.user
    version = request.POST.get("version") or request.GET.get("version") or "4.0"
    if version not in VERSIONS:
        version = "4.0"
    people = selectors.vcard_people(user=user, ids=ids, hidden=hidden_fields(user, CONTACT_RT))
    if not people:
        raise Http404
    audit(actor=user, action=AuditLog.Action.EXPORT, target_type=CONTACT_RT, ip=client_ip(request),
          data={"format": f"vcard {version}", "count": len(people)})
    response = HttpResponse(write_vcards(people, version=version), content_type="text/vcard; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
def contact_vcard(request, pk):
    """One contact as a .vcf file (3.0 or 4.0), without the fields hidden from the reader."""
    _require(request.user, CONTACT_RT, "export")
    get_object_or_404(Contact.objects.visible_to(request.user), pk=pk)
    return _vcard_response(request, [pk], f"contact-{pk}.vcf")


@login_required
@require_POST
def contacts_vcard(request):
    """The ticked contacts of the list as one .vcf file: only those the reader may see."""
    _require(request.user, CONTACT_RT, "export")
    ids = [int(i) for i in request.POST.getlist("ids") if i.isascii() and i.isdigit() and len(i) <= 18][:10_000]
    if not ids:
        messages.warning(request, _("Select at least one contact."))
        return redirect(safe_next(request, reverse("contacts:list")))
    return _vcard_response(request, ids, "contacts.vcf")

"""Settings › Pipelines and stages (admins with the customization right): pipelines with their translated names,
the default one and their order; each pipeline's stages with name and translations, order, probability, forecast
category, won/lost flag and the fields required to enter them. A stage that still holds opportunities is not
deleted until they are moved to another stage. Every change is audited."""
from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.access.models import AuditLog
from crm.access.services import audit
from crm.access.settings_views import render_settings, right_required
from crm.core.middleware import client_ip
from opportunities.forms import REQUIRABLE
from opportunities.models import Opportunity, Pipeline, Stage, StageChange

RIGHT = "manage_customization"
SECTION = "pipelines"


def _audit(request, what: str, obj, data: dict) -> None:
    audit(actor=request.user, action=AuditLog.Action.CUSTOMIZATION_CHANGED, target=obj, ip=client_ip(request),
          data={"what": what, **data})


def _other_languages() -> list[tuple[str, str]]:
    return [(code, name) for code, name in settings.LANGUAGES if code != "en"]


class _TranslatedNameForm(forms.ModelForm):
    """A name plus one field per other language of the interface, kept in name_translations."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        stored = self.instance.name_translations or {}
        for code, language in _other_languages():
            self.fields[f"name_{code}"] = forms.CharField(
                label=_("Name in %(language)s") % {"language": _(language)}, max_length=100, required=False,
                initial=stored.get(code, ""))

    def save(self, commit=True):
        translations = {code: self.cleaned_data.get(f"name_{code}", "").strip() for code, _l in _other_languages()}
        self.instance.name_translations = {code: name for code, name in translations.items() if name}
        return super().save(commit=commit)


class PipelineForm(_TranslatedNameForm):
    class Meta:
        model = Pipeline
        fields = ["name", "is_default", "order"]
        help_texts = {"is_default": gettext_lazy("New opportunities and converted leads start in the default "
                                                 "pipeline. There is one default.")}


def required_choices() -> list[tuple[str, str]]:
    from crm.customization.fields import definitions

    choices = [(name, str(Opportunity._meta.get_field(name).verbose_name).capitalize()) for name in REQUIRABLE]
    choices += [(f"custom.{cf.name}", cf.display_label) for cf in definitions("opportunities.opportunity")]
    return choices


class StageForm(_TranslatedNameForm):
    required_fields = forms.MultipleChoiceField(label=gettext_lazy("Fields required to enter this stage"),
                                                required=False, widget=forms.CheckboxSelectMultiple,
                                                help_text=gettext_lazy("Moving a deal here asks for these when "
                                                                       "they are empty. Closing lost always "
                                                                       "asks for a loss reason."))

    class Meta:
        model = Stage
        fields = ["name", "probability", "forecast_category", "outcome", "required_fields"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices = required_choices()
        known = {value for value, _label in choices}
        for name in self.instance.required_fields or []:  # a field that has since gone: kept, so it can be untucked
            if name not in known:
                choices.append((name, name))
        self.fields["required_fields"].choices = choices
        self.initial.setdefault("required_fields", list(self.instance.required_fields or []))
        self.order_fields(["name", *[f"name_{code}" for code, _l in _other_languages()], "probability",
                           "forecast_category", "outcome", "required_fields"])


class StageDeleteForm(forms.Form):
    move_to = forms.ModelChoiceField(label=gettext_lazy("Move its opportunities to"), queryset=Stage.objects.none(),
                                     required=False)

    def __init__(self, *args, stage: Stage, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["move_to"].queryset = Stage.objects.filter(pipeline_id=stage.pipeline_id).exclude(pk=stage.pk)


@right_required(RIGHT)
def pipelines(request):
    # An aggregate drops Meta.ordering: order explicitly.
    items = list(Pipeline.objects.prefetch_related("stages").annotate(deals=Count("opportunities"))
                 .order_by("order", "id"))
    counts = dict(Opportunity.objects.order_by().values_list("stage_id").annotate(n=Count("id")))
    labels = dict(required_choices())
    for pipeline in items:
        for stage in pipeline.stages.all():
            stage.deals = counts.get(stage.pk, 0)
            stage.required_labels = [labels.get(name, name) for name in stage.required_fields or []]
    return render_settings(request, "opportunities/setup/pipelines.html", {"pipelines": items}, section=SECTION)


@right_required(RIGHT)
def pipeline_edit(request, pk=None):
    pipeline = get_object_or_404(Pipeline, pk=pk) if pk else Pipeline(order=Pipeline.objects.count())
    form = PipelineForm(request.POST or None, instance=pipeline)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            pipeline = form.save()
            if pipeline.is_default:
                Pipeline.objects.exclude(pk=pipeline.pk).filter(is_default=True).update(is_default=False)
            elif not Pipeline.objects.filter(is_default=True).exists():
                Pipeline.objects.filter(pk=pipeline.pk).update(is_default=True)
            from opportunities import choices_cache

            choices_cache.changed()  # the updates send no signal
        _audit(request, "pipeline", pipeline, {"name": pipeline.name, "translations": pipeline.name_translations,
                                               "default": pipeline.is_default, "order": pipeline.order})
        messages.success(request, _("Pipeline %(name)s saved.") % {"name": pipeline.name})
        return redirect("opportunities:setup_pipelines")
    return render_settings(request, "opportunities/setup/pipeline_form.html",
                           {"form": form, "pipeline": pipeline if pk else None}, section=SECTION)


@right_required(RIGHT)
def stage_edit(request, pk=None, pipeline=None):
    if pk:
        stage = get_object_or_404(Stage.objects.select_related("pipeline"), pk=pk)
    else:
        owner = get_object_or_404(Pipeline, pk=pipeline)
        last = owner.stages.order_by("-order").first()
        stage = Stage(pipeline=owner, order=(last.order + 1) if last else 0)
    form = StageForm(request.POST or None, instance=stage)
    if request.method == "POST" and form.is_valid():
        stage = form.save()
        _audit(request, "stage", stage, {"pipeline": stage.pipeline.name, "name": stage.name,
                                         "translations": stage.name_translations, "probability": stage.probability,
                                         "forecast_category": stage.forecast_category, "outcome": stage.outcome,
                                         "required_fields": stage.required_fields})
        messages.success(request, _("Stage %(name)s saved.") % {"name": stage.name})
        return redirect("opportunities:setup_pipelines")
    return render_settings(request, "opportunities/setup/stage_form.html",
                           {"form": form, "stage": stage if pk else None, "pipeline": stage.pipeline},
                           section=SECTION)


@right_required(RIGHT)
def stage_reorder(request, pk):
    """Move a stage one place up or down in its pipeline (POST direction=up|down); the order is renumbered."""
    stage = get_object_or_404(Stage, pk=pk)
    if request.method == "POST" and request.POST.get("direction") in ("up", "down"):
        with transaction.atomic():
            stages = list(Stage.objects.select_for_update().filter(pipeline_id=stage.pipeline_id)
                          .order_by("order", "id"))
            index = next(i for i, s in enumerate(stages) if s.pk == stage.pk)
            other = index - 1 if request.POST["direction"] == "up" else index + 1
            if 0 <= other < len(stages):
                stages[index], stages[other] = stages[other], stages[index]
                for position, item in enumerate(stages):
                    if item.order != position:
                        Stage.objects.filter(pk=item.pk).update(order=position)
                from opportunities import choices_cache

                choices_cache.changed()  # update() sends no signal: the list's stage filter follows the order
                _audit(request, "stage_order", stage, {"pipeline_id": stage.pipeline_id,
                                                       "order": [s.name for s in stages]})
    return redirect("opportunities:setup_pipelines")


@right_required(RIGHT)
def stage_delete(request, pk):
    """Delete a stage; one that still holds opportunities (or is named by their history) moves them first."""
    stage = get_object_or_404(Stage.objects.select_related("pipeline"), pk=pk)
    deals = Opportunity.objects.filter(stage=stage).count()
    form = StageDeleteForm(request.POST if request.method == "POST" else None, stage=stage)
    if request.method == "POST" and form.is_valid():
        target = form.cleaned_data["move_to"]
        if deals and target is None:
            form.add_error("move_to", _("Choose the stage its %(count)s opportunities move to.") % {"count": deals})
        else:
            with transaction.atomic():
                if deals:
                    moved = _move_all(request.user, stage, target)
                    _audit(request, "stage_emptied", stage, {"name": stage.name, "to": target.name, "count": moved})
                # The history keeps its rows: changes into the gone stage now read as into the stage they went to.
                if target is not None:
                    StageChange.objects.filter(to_stage=stage).update(to_stage=target)
                if StageChange.objects.filter(to_stage=stage).exists():
                    form.add_error("move_to", _("The stage history names this stage: choose a stage to name "
                                                "instead."))
                    transaction.set_rollback(True)
                else:
                    _audit(request, "stage_deleted", stage, {"pipeline": stage.pipeline.name, "name": stage.name})
                    stage.delete()
                    messages.success(request, _("Stage %(name)s deleted.") % {"name": stage.name})
                    return redirect("opportunities:setup_pipelines")
    return render_settings(request, "opportunities/setup/stage_delete.html",
                           {"form": form, "stage": stage, "deals": deals}, section=SECTION)


def _move_all(actor, stage: Stage, target: Stage) -> int:
    """Every opportunity of `stage` into `target`, each move recorded in its stage history. An admin's
    reorganisation, not a sale: the target's required fields are not asked for deal by deal."""
    from django.utils import timezone

    now = timezone.now()
    count = 0
    for opportunity in Opportunity.objects.filter(stage=stage).select_for_update():
        StageChange.objects.create(opportunity=opportunity, from_stage=stage, to_stage=target,
                                   amount=opportunity.amount, probability=opportunity.probability,
                                   actor=actor if actor.is_authenticated else None, created_at=now)
        count += 1
    Opportunity.objects.filter(stage=stage).update(stage=target, stage_entered_at=now)
    return count

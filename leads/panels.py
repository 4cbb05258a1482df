"""What the leads app shows on the pages of what a conversion created: the lead it came from."""
from __future__ import annotations


def converted_from(field: str):
    def context(request, record):
        from leads.models import Lead

        if not request.user.can("leads.lead", "view"):
            return None
        leads = list(Lead.objects.visible_to(request.user).filter(**{field: record})
                     .only("id", "first_name", "last_name", "company"))
        return {"converted_from": leads} if leads else None
    return context

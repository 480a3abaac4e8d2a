"""Forms of the loyalty settings screens. They only parse; views hand the data to services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from carekit.loyalty.enums import CouponKind, Rounding, RuleKind, TierBasis


class ProgramForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    active = forms.BooleanField(label=_("Active"), required=False)
    point_value = forms.DecimalField(
        label=_("Value of one point"), min_value=0.0001, max_digits=12, decimal_places=4
    )
    rounding = forms.ChoiceField(label=_("Rounding"), choices=Rounding.choices)
    max_redeem_percent = forms.IntegerField(label=_("Points may pay up to (%)"), min_value=0, max_value=100)
    return_window_days = forms.IntegerField(label=_("Return window (days)"), min_value=0, max_value=365)
    lot_lifetime_days = forms.IntegerField(label=_("Points expire after (days)"), min_value=1, required=False)
    comp_cap_count = forms.IntegerField(label=_("Compensations per customer per period"), min_value=0)
    comp_cap_points = forms.IntegerField(label=_("Compensation points per customer per period"), min_value=0)
    comp_cap_days = forms.IntegerField(label=_("Compensation cap period (days)"), min_value=1)
    comp_budget_points = forms.IntegerField(label=_("Compensation budget (points)"), min_value=0)
    agent_comp_max_points = forms.IntegerField(label=_("Most points an agent may grant at once"), min_value=0)
    tier_basis = forms.ChoiceField(label=_("Tiers are reached by"), choices=TierBasis.choices)
    tier_period_days = forms.IntegerField(label=_("Tier period (days)"), min_value=1)
    tier_grace_days = forms.IntegerField(label=_("Tier downgrade grace (days)"), min_value=0)


class RuleForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=RuleKind.choices)
    name = forms.CharField(label=_("Name"), max_length=120)
    percent = forms.DecimalField(label=_("Percent"), required=False, min_value=0.01, max_value=100)
    categories = forms.CharField(label=_("Categories (comma-separated)"), required=False, max_length=500)
    k = forms.IntegerField(label=_("From purchase number"), required=False, min_value=1)
    n = forms.IntegerField(label=_("Every N-th order"), required=False, min_value=1)
    points = forms.IntegerField(label=_("Points"), required=False, min_value=1)
    friends = forms.IntegerField(label=_("Friends who bought"), required=False, min_value=1)
    referrer_points = forms.IntegerField(label=_("Points for the referrer"), required=False, min_value=1)
    referred_points = forms.IntegerField(label=_("Points for the friend"), required=False, min_value=1)
    campaign_id = forms.ChoiceField(label=_("Gift coupon campaign"), required=False, choices=[])
    cap_points = forms.IntegerField(label=_("Cap per customer (points)"), required=False, min_value=1)
    budget_points = forms.IntegerField(label=_("Budget (points)"), required=False, min_value=1)

    FIELDS = {
        RuleKind.CASHBACK: ("percent", "categories"),
        RuleKind.NTH_ORDER_GIFT: ("n", "points", "campaign_id"),
        RuleKind.DISCOUNT_FROM_KTH: ("k", "percent"),
        RuleKind.WELCOME: ("points",),
        RuleKind.BIRTHDAY: ("points",),
        RuleKind.REFERRAL: ("referrer_points", "referred_points"),
        RuleKind.REFERRAL_MILESTONE: ("friends", "points"),
    }

    def __init__(self, *args: Any, campaigns: list[tuple[str, str]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["campaign_id"]
        if isinstance(field, forms.ChoiceField):
            field.choices = [("", "—"), *(campaigns or [])]

    def params(self) -> dict[str, Any]:
        """The rule's parameters for its kind, in the shape services.rules validates."""
        data = self.cleaned_data
        out: dict[str, Any] = {}
        for name in self.FIELDS[data["kind"]]:
            value = data.get(name)
            if value in (None, ""):
                continue
            if name == "percent":
                out[name] = str(value)
            elif name == "categories":
                out[name] = [c.strip() for c in value.split(",") if c.strip()]
            else:
                out[name] = value
        return out


class TierForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=60)
    threshold = forms.IntegerField(label=_("Points earned in the period"), min_value=0)
    multiplier = forms.DecimalField(
        label=_("Cashback multiplier"), min_value=0.01, max_digits=5, decimal_places=2
    )


class CampaignForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    kind = forms.ChoiceField(label=_("Kind"), choices=CouponKind.choices)
    value = forms.DecimalField(label=_("Value"), min_value=0, max_digits=12, decimal_places=2, initial=0)
    min_order = forms.DecimalField(
        label=_("Minimum order"), min_value=0, max_digits=12, decimal_places=2, initial=0
    )
    categories = forms.CharField(label=_("Categories (comma-separated)"), required=False, max_length=500)
    valid_from = forms.DateTimeField(label=_("Valid from"), required=False)
    valid_until = forms.DateTimeField(label=_("Valid until"), required=False)
    per_customer_limit = forms.IntegerField(label=_("Uses per customer"), required=False, min_value=1)
    code = forms.CharField(label=_("Promo code (optional)"), required=False, max_length=64)
    max_uses = forms.IntegerField(label=_("Total uses of the code"), required=False, min_value=1)

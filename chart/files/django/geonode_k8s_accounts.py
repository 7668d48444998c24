"""GeoNode's OpenID Connect adapter with geonode.accounts.approvalRequired kept.

GeoNode 5.1.1's GenericOpenIDConnectAdapter saves the account a first login makes without the
step of GeoNode's SocialAccountAdapter that leaves new accounts inactive until an administrator
approves them (geonode/people/adapters.py: its save_user calls
super(SocialAccountAdapter, self).save_user). The chart's `geonode.accounts.approvalRequired`
promises that every new account waits; this adapter keeps that promise for the login provider.
"""

from django.conf import settings

from geonode.people.adapters import GenericOpenIDConnectAdapter


class ApprovingOpenIDConnectAdapter(GenericOpenIDConnectAdapter):
    def save_user(self, request, sociallogin, form=None):
        user = super().save_user(request, sociallogin, form=form)
        if settings.ACCOUNT_APPROVAL_REQUIRED and user.is_active:
            user.is_active = False
            user.save()
        return user

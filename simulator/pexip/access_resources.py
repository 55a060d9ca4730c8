"""Administrator access: ``authentication``, ``role``, ``permission``, ``ldap_role``.

Fields: the real schema ([SCHEMA] ``authentication.md``, ``role.md``, ``permission.md``,
``ldap_role.md``); choices and defaults: the Terraform provider's
``resource_infinity_authentication.go`` (pexip-api-reference.md §6). Cross-field rules (LDAP
settings, client certificates) are in ``rules``.

INFERRED, in one place:
- ``oidc_auth_method`` takes ``client_secret`` (default) or ``private_key``: the schema's help
  names "client secret" and "private key" methods; the provider's validator lists OAuth
  method names that exclude its own default, so it is not followed.
- Limits the sources do not give: OIDC URLs, client ID, username and groups fields and the
  required key/value at most 255 characters; ``api_oauth2_expiration`` at least 60 seconds
  (the provider's validator).
- ``oidc_client_secret`` and ``oidc_private_key`` are secrets (stored hashed, read back hashed,
  as ``ldap_bind_password``).
- Permission codenames (``seed``).
- The simulator stores and validates these settings; whether its own login enforces them is
  the ``access`` module's business.
"""

from __future__ import annotations

from simulator.pexip.declare import choice, flag, many, number, required, secret, text
from simulator.pexip.fields import StringField
from simulator.pexip.resourcedef import READ, configuration

SOURCES = ("LOCAL", "LDAP", "LDAP+LOCAL", "OIDC", "OIDC+LOCAL", "LDAP+OIDC+LOCAL")
USER_FILTER = "(&(objectclass=person)(!(objectclass=computer)))"
USER_SEARCH_FILTER = "(|(uid={username})(sAMAccountName={username}))"
GROUP_FILTER = (
    "(|(objectclass=group)(objectclass=groupOfNames)"
    "(objectclass=groupOfUniqueNames)(objectclass=posixGroup))"
)
GROUP_MEMBERSHIP_FILTER = "(|(member={userdn})(uniquemember={userdn})(memberuid={useruid}))"

AUTHENTICATION = configuration(
    "authentication",
    "Authentication",
    singleton=True,
    fields={
        "source": choice(SOURCES, "LOCAL", "Where administrators are authenticated."),
        "client_certificate": choice(("NO", "CN", "UPN"), "NO", "Require a client certificate."),
        "ldap_server": text(255, help="The LDAP server (a domain for SRV, or an FQDN)."),
        "ldap_base_dn": text(255, help="The base DN to query."),
        "ldap_bind_username": text(255, help="The service account that binds."),
        "ldap_bind_password": secret(100, "The bind password.", clear_kept=True),
        "ldap_permit_no_tls": flag(False, "Permit LDAP queries over an insecure connection."),
        "ldap_user_search_dn": text(255, help="Where users are, relative to the base DN."),
        "ldap_user_filter": text(1024, USER_FILTER, "Filter matching user records."),
        "ldap_user_search_filter": text(1024, USER_SEARCH_FILTER, "Filter finding a user."),
        "ldap_user_group_attributes": text(100, "memberOf", "User attributes naming groups."),
        "ldap_group_search_dn": text(255, help="Where groups are, relative to the base DN."),
        "ldap_group_filter": text(1024, GROUP_FILTER, "Filter matching group records."),
        "ldap_group_membership_filter": text(
            1024, GROUP_MEMBERSHIP_FILTER, "Filter finding a user's groups."
        ),
        "ldap_use_global_catalog": flag(False, "Search the Active Directory Global Catalog."),
        "oidc_metadata_url": text(255, help="URL of the OpenID Connect metadata document."),
        "oidc_metadata": text(None, "{}", "The OpenID Connect metadata."),
        "oidc_client_id": text(255, help="The OpenID Connect client ID."),
        "oidc_client_secret": secret(None, "The client secret (client_secret method)."),
        "oidc_private_key": secret(None, "The private key (private_key method)."),
        "oidc_auth_method": choice(
            ("client_secret", "private_key"), "client_secret", "The authentication method."
        ),
        "oidc_scope": text(255, "openid profile email", "The OAuth2 scope to request."),
        "oidc_authorize_url": text(255, help="The authorization URL."),
        "oidc_token_endpoint_url": text(255, help="The token endpoint URL."),
        "oidc_username_field": text(255, "preferred_username", "Token field with the username."),
        "oidc_groups_field": text(255, "groups", "Token field with the groups."),
        "oidc_required_key": text(255, help="A token field that must be present."),
        "oidc_required_value": text(255, help="The value the required key must have."),
        "oidc_domain_hint": text(255, help="Login account domain hint."),
        "oidc_login_button": text(128, help="Text of the OpenID Connect login button."),
        "api_oauth2_disable_basic": flag(False, "API access through OAuth2 only."),
        "api_oauth2_allow_all_perms": flag(False, "OAuth2 clients may use all role permissions."),
        "api_oauth2_expiration": number(60, 2147483647, 3600, "Access token lifetime, seconds."),
    },
)

PERMISSION = configuration(
    "permission",
    "Permission",
    list_methods=READ,
    detail_methods=READ,
    fields={
        "name": StringField(readonly=True, max_length=255, help_text="The permission's name."),
        "codename": StringField(readonly=True, max_length=100, help_text="Its code name."),
    },
)

ROLE = configuration(
    "role",
    "Role",
    fields={
        "name": required(250, "The name of this role.", unique=True),
        "permissions": many("permission", "What accounts with this role may do.", embed=True),
    },
)

LDAP_ROLE = configuration(
    "ldap_role",
    "LDAP role",
    fields={
        "name": required(250, "A name for this role mapping.", unique=True),
        "ldap_group_dn": required(255, "The DN of the LDAP group this mapping applies to."),
        "roles": many("role", "The roles matching users get."),
    },
)

def axes_username(request, credentials):
    """allauth logs in by email (form field `login`); axes must key lockouts on it."""
    value = ""
    if credentials:
        value = credentials.get("email") or credentials.get("username") or credentials.get("login") or ""
    if not value and request is not None and request.method == "POST":
        value = request.POST.get("login", "")
    return value.strip().lower()

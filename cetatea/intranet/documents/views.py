"""The intranet's documents: views (thin; logic in services.py and selectors.py).

Every view starts with an ``access_*`` selector (which calls ``access_intranet``): a
folder or document the user may not see answers 404, one they see with too low a level
answers 403.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.files.storage import storages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from cetatea.core.security import file_response
from cetatea.intranet.documents import forms, selectors, services
from cetatea.intranet.documents.choices import Kind, Level
from cetatea.intranet.documents.models import DocumentVersion, FolderAccess
from cetatea.intranet.selectors import access_intranet, department_id_of


def _apply_errors(form, exc: ValidationError, field: str | None = None) -> None:
    """A service's errors on the form: keyed ones on their fields, the others on
    ``field`` (the file of an upload) or the whole form."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    elif exc.code in ("conflict", "locked", "gone"):
        form.add_error(None, exc.messages)
    else:
        form.add_error(field, exc.messages)


def _context(request, **extra) -> dict:
    return {"section": "documents", "search_form": forms.SearchForm(request.GET or None), **extra}


# --- folders ---------------------------------------------------------------------------------


@login_required
def index(request):
    access_intranet(request.user)
    folder_form = forms.FolderForm()
    if request.method == "POST":
        folder_form = forms.FolderForm(request.POST)
        if folder_form.is_valid():
            try:
                folder = services.folder_create(
                    actor=request.user,
                    name=folder_form.cleaned_data["name"],
                    shared=folder_form.cleaned_data["shared"],
                )
            except ValidationError as exc:
                _apply_errors(folder_form, exc)
            else:
                messages.success(request, _("Folder created."))
                return redirect("documents:folder", folder_id=folder.pk)
    folders = selectors.folder_list(request.user)
    context = _context(
        request,
        department_folders=[(f, lvl) for f, lvl in folders if f.department_id is not None],
        shared_folders=[(f, lvl) for f, lvl in folders if f.department_id is None],
        folder_form=folder_form,
        may_create=department_id_of(request.user) is not None
        or request.user.has_perm("documents.add_shared_folder"),
        may_share=request.user.has_perm("documents.add_shared_folder"),
    )
    return render(
        request, "documents/index.html", context, status=400 if folder_form.errors else 200
    )


@login_required
def folder(request, folder_id: int):
    folder = selectors.access_folder(request.user, folder_id)
    page = selectors.folder_documents(folder, cursor=request.GET.get("cursor", ""))
    return render(
        request,
        "documents/folder.html",
        _context(
            request,
            folder=folder,
            page=page,
            upload_form=forms.UploadForm(),
            rename_form=forms.RenameFolderForm(initial={"name": folder.name}),
            may_edit=folder.level >= Level.EDIT,
            may_manage=folder.level >= Level.MANAGE,
        ),
    )


@require_POST
@login_required
def folder_upload(request, folder_id: int):
    folder = selectors.access_folder(request.user, folder_id, Level.EDIT)
    form = forms.UploadForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            document = services.document_upload(
                actor=request.user,
                folder_id=folder.pk,
                file=form.cleaned_data["file"],
                title=form.cleaned_data["title"],
            )
        except ValidationError as exc:
            _apply_errors(form, exc, "file")
        else:
            messages.success(request, _("The document was uploaded."))
            return redirect("documents:document", document_id=document.pk)
    page = selectors.folder_documents(folder)
    context = _context(
        request,
        folder=folder,
        page=page,
        upload_form=form,
        rename_form=forms.RenameFolderForm(initial={"name": folder.name}),
        may_edit=True,
        may_manage=folder.level >= Level.MANAGE,
    )
    return render(request, "documents/folder.html", context, status=400)


@login_required
def folder_new_markdown(request, folder_id: int):
    folder = selectors.access_folder(request.user, folder_id, Level.EDIT)
    form = forms.MarkdownNewForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            document = services.document_markdown_create(
                actor=request.user,
                folder_id=folder.pk,
                title=form.cleaned_data["title"],
                text=form.cleaned_data["text"],
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("The document was created."))
            return redirect("documents:document", document_id=document.pk)
    status = 400 if form.errors else 200
    return render(
        request,
        "documents/new_markdown.html",
        _context(request, folder=folder, form=form),
        status=status,
    )


@require_POST
@login_required
def folder_manage(request, folder_id: int, action: str):
    folder = selectors.access_folder(request.user, folder_id, Level.MANAGE)
    try:
        if action == "rename":
            form = forms.RenameFolderForm(request.POST)
            if not form.is_valid():
                raise ValidationError(form.errors["name"])
            services.folder_rename(
                actor=request.user, folder_id=folder.pk, name=form.cleaned_data["name"]
            )
            messages.success(request, _("Folder renamed."))
        elif action == "delete":
            services.folder_delete(actor=request.user, folder_id=folder.pk)
            messages.success(request, _("Folder deleted."))
            return redirect("documents:index")
        else:
            raise Http404
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    return redirect("documents:folder", folder_id=folder.pk)


@login_required
def folder_access(request, folder_id: int):
    folder = selectors.access_folder(request.user, folder_id, Level.MANAGE)
    form = forms.GrantForm(request.POST or None)
    if request.method == "POST":
        if "revoke" in request.POST:
            try:
                grant_id = int(request.POST["revoke"])
                if not FolderAccess.objects.filter(pk=grant_id, folder=folder).exists():
                    raise Http404
                services.folder_revoke(actor=request.user, access_id=grant_id)
            except ValueError:
                raise Http404 from None
            except ValidationError as exc:
                for message in exc.messages:
                    messages.error(request, message)
            else:
                messages.success(request, _("Access removed."))
            return redirect("documents:access", folder_id=folder.pk)
        if form.is_valid():
            data = form.cleaned_data
            user = data.get("user") if data["grantee"] == "user" else None
            department = data.get("department") if data["grantee"] == "department" else None
            try:
                services.folder_grant(
                    actor=request.user,
                    folder_id=folder.pk,
                    level=data["level"],
                    user_id=user.pk if user else None,
                    department_id=department.pk if department else None,
                )
            except ValidationError as exc:
                _apply_errors(form, exc)
            else:
                messages.success(request, _("Access saved."))
                return redirect("documents:access", folder_id=folder.pk)
    grants = FolderAccess.objects.filter(folder=folder).select_related("user", "department")
    return render(
        request,
        "documents/access.html",
        _context(request, folder=folder, grants=grants.order_by("-level", "pk")[:200], form=form),
        status=400 if form.errors else 200,
    )


# --- documents -----------------------------------------------------------------------------


def _document_context(request, document, **extra) -> dict:
    holder, since = selectors.lock_holder(document)
    current = DocumentVersion.objects.filter(document=document, number=document.version).first()
    return _context(
        request,
        document=document,
        folder=document.folder,
        current=current,
        lock_holder=holder,
        locked_since=since,
        locked_by_me=holder is not None and holder.pk == request.user.pk,
        locked_by_other=holder is not None and holder.pk != request.user.pk,
        may_edit=document.level >= Level.EDIT,
        may_manage=document.level >= Level.MANAGE,
        rendered=selectors.render_markdown(current.text)
        if current and document.kind == Kind.MARKDOWN
        else "",
        comments=selectors.document_comments(document, cursor=request.GET.get("comments", "")),
        links=selectors.document_links(document),
        **extra,
    )


@login_required
def document(request, document_id: int):
    document = selectors.access_document(request.user, document_id)
    context = _document_context(
        request,
        document,
        version_form=forms.VersionUploadForm(initial={"base_version": document.version}),
        comment_form=forms.CommentForm(),
        link_form=forms.LinkForm(),
        rename_form=forms.RenameDocumentForm(initial={"title": document.title}),
    )
    return render(request, "documents/document.html", context)


def _document_page_with(request, document, status=400, **forms_):
    defaults = {
        "version_form": forms.VersionUploadForm(initial={"base_version": document.version}),
        "comment_form": forms.CommentForm(),
        "link_form": forms.LinkForm(),
        "rename_form": forms.RenameDocumentForm(initial={"title": document.title}),
    }
    defaults.update(forms_)
    context = _document_context(request, document, **defaults)
    return render(request, "documents/document.html", context, status=status)


@require_POST
@login_required
def document_upload(request, document_id: int):
    document = selectors.access_document(request.user, document_id, Level.EDIT)
    form = forms.VersionUploadForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            version = services.document_upload_version(
                actor=request.user,
                document_id=document.pk,
                file=form.cleaned_data["file"],
                base_version=form.cleaned_data["base_version"],
            )
        except ValidationError as exc:
            _apply_errors(form, exc, "file")
            document = selectors.access_document(request.user, document_id)
            status = 409 if exc.code in ("conflict", "locked") else 400
            return _document_page_with(request, document, status=status, version_form=form)
        messages.success(request, _("Version %(n)s saved.") % {"n": version.number})
        return redirect("documents:document", document_id=document.pk)
    return _document_page_with(request, document, version_form=form)


@require_POST
@login_required
def document_action(request, document_id: int, action: str):
    """Lock, unlock, rename, delete, comment, link and unlink (POST, then back to the page)."""
    document = selectors.access_document(request.user, document_id)
    try:
        if action == "lock":
            services.document_lock(actor=request.user, document_id=document.pk)
            messages.success(request, _("The document is locked for you."))
        elif action == "unlock":
            if services.document_unlock(actor=request.user, document_id=document.pk):
                messages.success(request, _("The lock was released."))
        elif action == "comment":
            form = forms.CommentForm(request.POST)
            if not form.is_valid():
                return _document_page_with(request, document, comment_form=form)
            services.comment_add(
                actor=request.user, document_id=document.pk, body=form.cleaned_data["body"]
            )
            messages.success(request, _("Comment added."))
        elif action == "link":
            form = forms.LinkForm(request.POST)
            if form.is_valid():
                try:
                    services.document_link_add(
                        actor=request.user,
                        document_id=document.pk,
                        reference=form.cleaned_data["reference"],
                    )
                except ValidationError as exc:
                    _apply_errors(form, exc)
            if form.errors:
                return _document_page_with(request, document, link_form=form)
            messages.success(request, _("Link added."))
        elif action == "unlink":
            link = document.links.filter(pk=request.POST.get("link", "0") or 0).first()
            if link is None:
                raise Http404
            services.document_link_remove(actor=request.user, link_id=link.pk)
            messages.success(request, _("Link removed."))
        elif action == "rename":
            form = forms.RenameDocumentForm(request.POST)
            if not form.is_valid():
                return _document_page_with(request, document, rename_form=form)
            services.document_rename(
                actor=request.user, document_id=document.pk, title=form.cleaned_data["title"]
            )
            messages.success(request, _("Document renamed."))
        elif action == "delete":
            services.document_delete(actor=request.user, document_id=document.pk)
            messages.success(request, _("Document deleted."))
            return redirect("documents:folder", folder_id=document.folder_id)
        else:
            raise Http404
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    return redirect("documents:document", document_id=document.pk)


@login_required
def document_edit(request, document_id: int):
    """The Markdown editor: the form carries the version it started from; a save after
    someone else's is refused and the text is shown back beside a diff."""
    document = selectors.access_document(request.user, document_id, Level.EDIT)
    if document.kind != Kind.MARKDOWN:
        raise Http404
    current = DocumentVersion.objects.get(document=document, number=document.version)
    conflict_diff = None
    status = 200
    if request.method == "POST":
        form = forms.MarkdownEditForm(request.POST)
        if form.is_valid():
            try:
                version = services.document_markdown_save(
                    actor=request.user,
                    document_id=document.pk,
                    text=form.cleaned_data["text"],
                    base_version=form.cleaned_data["base_version"],
                    note=form.cleaned_data["note"],
                )
            except ValidationError as exc:
                _apply_errors(form, exc)
                status = 409 if exc.code in ("conflict", "locked") else 400
                document = selectors.access_document(request.user, document_id, Level.EDIT)
                current = DocumentVersion.objects.get(document=document, number=document.version)
                if exc.code == "conflict":
                    conflict_diff = selectors.diff_lines(
                        current.text,
                        form.cleaned_data["text"].replace("\r\n", "\n"),
                        old_label=_("version %(n)s") % {"n": current.number},
                        new_label=_("your text"),
                    )
                    # The next save is compared with the version now current.
                    form.data = form.data.copy()
                    form.data["base_version"] = str(document.version)
            else:
                if version is None:
                    messages.info(request, _("Nothing changed; no new version."))
                else:
                    messages.success(request, _("Version %(n)s saved.") % {"n": version.number})
                return redirect("documents:document", document_id=document.pk)
        else:
            status = 400
    else:
        form = forms.MarkdownEditForm(
            initial={"text": current.text, "base_version": document.version}
        )
    holder, since = selectors.lock_holder(document)
    context = _context(
        request,
        document=document,
        folder=document.folder,
        form=form,
        current=current,
        conflict_diff=conflict_diff,
        lock_holder=holder,
        locked_since=since,
        locked_by_me=holder is not None and holder.pk == request.user.pk,
        locked_by_other=holder is not None and holder.pk != request.user.pk,
    )
    return render(request, "documents/edit.html", context, status=status)


@require_POST
@login_required
def document_preview(request, document_id: int):
    selectors.access_document(request.user, document_id, Level.EDIT)
    html = selectors.render_markdown(request.POST.get("text", "")[: services.MAX_MARKDOWN_CHARS])
    return render(request, "documents/_preview.html", {"rendered": html})


@login_required
def document_versions(request, document_id: int):
    document = selectors.access_document(request.user, document_id)
    page = selectors.document_versions(document, cursor=request.GET.get("cursor", ""))
    return render(
        request,
        "documents/versions.html",
        _context(
            request,
            document=document,
            folder=document.folder,
            page=page,
            may_edit=document.level >= Level.EDIT,
            comparable=document.kind == Kind.MARKDOWN,
        ),
    )


@require_GET
@login_required
def version_download(request, document_id: int, number: int):
    document, version = selectors.access_version(request.user, document_id, number)
    if document.kind == Kind.MARKDOWN:
        content = version.text
    else:
        try:
            content = storages["private"].open(version.file.name, "rb")
        except OSError:
            raise Http404 from None
    return file_response(content, filename=version.original_name, content_type=version.content_type)


@require_POST
@login_required
def version_restore(request, document_id: int, number: int):
    document = selectors.access_document(request.user, document_id, Level.EDIT)
    try:
        base = int(request.POST.get("base_version", ""))
    except ValueError:
        base = None
    try:
        version = services.document_restore(
            actor=request.user, document_id=document.pk, number=number, base_version=base
        )
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect("documents:versions", document_id=document.pk)
    messages.success(
        request,
        _("Version %(old)s was restored as version %(new)s.")
        % {"old": number, "new": version.number},
    )
    return redirect("documents:versions", document_id=document.pk)


@require_GET
@login_required
def document_diff(request, document_id: int):
    document = selectors.access_document(request.user, document_id)
    try:
        a, b = int(request.GET.get("a", "")), int(request.GET.get("b", ""))
    except ValueError:
        raise Http404 from None
    versions = {
        v.number: v
        for v in DocumentVersion.objects.filter(
            document=document, number__in=[a, b]
        ).select_related("document")
    }
    if a not in versions or b not in versions:
        raise Http404
    old, new = selectors.version_text(versions[a]), selectors.version_text(versions[b])
    lines = None
    if old is not None and new is not None:
        lines = selectors.diff_lines(
            old,
            new,
            old_label=_("version %(n)s") % {"n": a},
            new_label=_("version %(n)s") % {"n": b},
        )
    return render(
        request,
        "documents/diff.html",
        _context(request, document=document, folder=document.folder, a=a, b=b, lines=lines),
    )


@require_GET
@login_required
def search(request):
    access_intranet(request.user)
    form = forms.SearchForm(request.GET or None)
    query = ""
    page = selectors.Page()
    if form.is_valid():
        query = form.cleaned_data["q"]
        page = selectors.document_search(request.user, query, cursor=request.GET.get("cursor", ""))
    return render(
        request,
        "documents/search.html",
        _context(
            request,
            search_form=form,
            query=query,
            page=page,
            too_short=bool(query.strip()) and not selectors.search_words(query),
        ),
    )

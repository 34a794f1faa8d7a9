"""Duplicate groups, step 2 of 3 (0004 made the tables): the existing pair rows go into
groups. Records and registrations joined by a review are one group (connected components
over the reviews), every record a review names is a member, and every review keeps its
decision and joins its group. Where one newcomer (a registration or a record) had several
OPEN pair reviews, the one with the most reasons (then the oldest) stays and the others are
deleted: an OPEN review has no decision or event rows to lose, and its candidate is a member
of the same group, shown on the group's page. A migration of its own: PostgreSQL refuses to
alter a table with pending deferred-constraint checks from rows written in the same
transaction, and 0006 alters this one."""
from django.db import migrations


def _strength(review):
    return (-len(review["reasons"] or []), review["created_at"], str(review["id"]))


def pairs_to_groups(apps, schema_editor):
    DuplicateReview = apps.get_model("patients", "DuplicateReview")
    DuplicateGroup = apps.get_model("patients", "DuplicateGroup")
    DuplicateGroupMember = apps.get_model("patients", "DuplicateGroupMember")
    reviews = list(DuplicateReview.objects.values("id", "existing_id", "registration_id", "other_id", "status", "reasons", "created_at"))
    if not reviews:
        return
    parent = {}

    def find(node):
        parent.setdefault(node, node)
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    def subject(review):
        return ("r", review["registration_id"]) if review["registration_id"] else ("p", review["other_id"])

    for review in reviews:
        a, b = find(("p", review["existing_id"])), find(subject(review))
        if a != b:
            parent[b] = a
    components = {}
    for review in reviews:
        components.setdefault(find(("p", review["existing_id"])), []).append(review)
    groups, members, group_of_review = [], [], {}
    for rows in components.values():
        group = DuplicateGroup(created_at=min(r["created_at"] for r in rows), flagged_at=max(r["created_at"] for r in rows))
        groups.append(group)
        patients = {}
        for r in rows:
            group_of_review[r["id"]] = group
            for pk in (r["existing_id"], r["other_id"]):
                if pk is not None:
                    patients[pk] = min(patients.get(pk, r["created_at"]), r["created_at"])
        members.extend(DuplicateGroupMember(group=group, patient_id=pk, joined_at=at) for pk, at in patients.items())
    DuplicateGroup.objects.bulk_create(groups, batch_size=1000)
    DuplicateGroupMember.objects.bulk_create(members, batch_size=1000)
    # One OPEN review per newcomer: keep the strongest, delete its open siblings.
    open_by_subject = {}
    for review in reviews:
        if review["status"] == "open":
            open_by_subject.setdefault(subject(review), []).append(review)
    redundant = [r["id"] for rows in open_by_subject.values() if len(rows) > 1 for r in sorted(rows, key=_strength)[1:]]
    for start in range(0, len(redundant), 1000):
        DuplicateReview.objects.filter(pk__in=redundant[start:start + 1000]).delete()
    gone = set(redundant)
    kept = [DuplicateReview(pk=r["id"], group=group_of_review[r["id"]]) for r in reviews if r["id"] not in gone]
    DuplicateReview.objects.bulk_update(kept, ["group"], batch_size=1000)


class Migration(migrations.Migration):

    dependencies = [("patients", "0004_duplicate_groups")]

    operations = [migrations.RunPython(pairs_to_groups, migrations.RunPython.noop)]

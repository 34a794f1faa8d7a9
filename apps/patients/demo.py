"""The patients app's demo records: six patients, three with portal logins."""
import datetime

from apps.accounts.demo import verified_login
from apps.core import demo
from apps.patients.models import Patient
from apps.patients.services import patient_create

PATIENTS = [
    # email (portal login) or None, first, last, dob, phone
    ("patient@clinic.test", "Maria", "Garcia", datetime.date(1985, 4, 12), "+12125550101"),
    ("patient2@clinic.test", "James", "Okafor", datetime.date(1972, 11, 3), "+12125550102"),
    ("patient3@clinic.test", "Lena", "Novak", datetime.date(1999, 7, 21), "+12125550103"),
    (None, "Robert", "Chen", datetime.date(1958, 2, 28), "+12125550104"),
    (None, "Aisha", "Rahman", datetime.date(2010, 9, 9), "+12125550105"),
    (None, "Tom", "Berg", datetime.date(1990, 1, 15), "+12125550106"),
]


@demo.contribute(order=20)
def seed_patients():
    out = []
    for email, first, last, dob, phone in PATIENTS:
        if Patient.objects.filter(first_name=first, last_name=last, date_of_birth=dob).exists():
            continue
        user = verified_login(email=email, full_name=f"{first} {last}", phone=phone) if email else None
        patient_create(
            data={"first_name": first, "last_name": last, "date_of_birth": dob, "phone": phone, "email": email or ""},
            user=user,
            flag_duplicates=False,
        )
        out.append(f"patient: {first} {last}" + (f" (login {email})" if email else ""))
    return out


@demo.summary(order=10)
def patients_summary():
    return [f"Patients: {', '.join(email for email, *_ in PATIENTS if email)}"]
